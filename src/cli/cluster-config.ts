import { MAX_NODE_NAME_LENGTH } from "../cluster/node-identity.ts";
import type { ClusterTuning } from "../cluster/tuning.ts";
import { ConfigError } from "./config-error.ts";
import { SERVE_FLAGS } from "./serve-flags.ts";

/** The node's name and the cluster protocol's timings, as `kiln serve` was given them. */
export interface ClusterConfig {
  /** Undefined: the engine's default, `<host>-<pid>`. */
  nodeName: string | undefined;
  /** Only the timings given; the engine fills in the rest. */
  cluster: Partial<ClusterTuning>;
}

type Setting = (
  name: "node-name" | "lease-ms" | "heartbeat-ms" | "rescue-ms" | "claim-poll-ms",
) => string | undefined;

/** A day: longer timings are a typo (seconds given as milliseconds the other way round is caught by the minimum). */
const MAX_MS = 86_400_000;

function milliseconds(value: string | undefined, flag: string, min: number): number | undefined {
  if (value === undefined || value === "") return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > MAX_MS) {
    throw new ConfigError(
      `${flag} must be a whole number of milliseconds from ${min} to ${MAX_MS}, got "${value}"`,
    );
  }
  return parsed;
}

// The node id is `<name>/<suffix>` and travels in NOTIFY payloads: the same rule as the engine's.
function nodeName(value: string | undefined): string | undefined {
  if (value === undefined || value === "") return undefined;
  if (value.length > MAX_NODE_NAME_LENGTH || /[\s/]/.test(value)) {
    throw new ConfigError(
      `--node-name must be 1 to ${MAX_NODE_NAME_LENGTH} characters without spaces or "/", got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * --node-name and the four timings. They are checked here, with the flags' names, so a wrong one
 * is a line at start-up rather than an engine error; SQLite accepts them and uses only the name.
 */
export function clusterConfig(setting: Setting): ClusterConfig {
  const leaseMs = milliseconds(setting("lease-ms"), "--lease-ms", 100);
  const heartbeatMs = milliseconds(setting("heartbeat-ms"), "--heartbeat-ms", 10);
  const rescueMs = milliseconds(setting("rescue-ms"), "--rescue-ms", 10);
  const claimPollMs = milliseconds(setting("claim-poll-ms"), "--claim-poll-ms", 10);
  const lease = leaseMs ?? Number(SERVE_FLAGS["lease-ms"].default);
  // Without --heartbeat-ms the engine takes a third of the lease, which always fits.
  if (heartbeatMs !== undefined && heartbeatMs * 2 > lease) {
    throw new ConfigError(
      `--heartbeat-ms (${heartbeatMs}) must be at most half of --lease-ms (${lease}): one late heartbeat must not lose every lease`,
    );
  }
  return {
    nodeName: nodeName(setting("node-name")),
    cluster: {
      ...(leaseMs !== undefined ? { leaseMs } : {}),
      ...(heartbeatMs !== undefined ? { heartbeatMs } : {}),
      ...(rescueMs !== undefined ? { rescueMs } : {}),
      ...(claimPollMs !== undefined ? { claimPollMs } : {}),
    },
  };
}
