// --node-name and the cluster timings: what the manager gets, and one line for each mistake.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ConfigError, parseServeConfig } from "../../src/cli/config.ts";
import type { NodeListJson } from "../../src/http/index.ts";
import { tempDir } from "../helpers.ts";
import { kiln, start } from "./run.ts";

const parse = (args: string[], env: Record<string, string> = {}) => parseServeConfig(args, env, false);

function refusal(args: string[], env: Record<string, string> = {}): string {
  try {
    parse(args, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).not.toContain("\n");
    return (error as Error).message;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(args)}`);
}

describe("cluster flags", () => {
  test("none given: no name, no timings, so the engine's defaults hold", () => {
    expect(parse([])).toMatchObject({ nodeName: undefined, cluster: {} });
  });

  test("each maps to nodeName or its field of cluster; flags win over the environment", () => {
    const config = parse(
      ["--node-name", "node-1", "--lease-ms", "9000", "--heartbeat-ms", "3000", "--rescue-ms", "2000"],
      { KILN_NODE_NAME: "from-env", KILN_CLAIM_POLL_MS: "250", KILN_LEASE_MS: "60000" },
    );
    expect(config.nodeName).toBe("node-1");
    expect(config.cluster).toEqual({ leaseMs: 9000, heartbeatMs: 3000, rescueMs: 2000, claimPollMs: 250 });
  });

  test("mistakes are one line naming the flag", () => {
    expect(refusal(["--lease-ms", "15s"])).toMatch(/^--lease-ms must be a whole number of milliseconds/);
    expect(refusal([], { KILN_RESCUE_MS: "-1" })).toMatch(/^--rescue-ms must be/);
    expect(refusal(["--claim-poll-ms", "5"])).toMatch(/^--claim-poll-ms must be .* from 10 /);
    expect(refusal(["--heartbeat-ms", "8000"])).toBe(
      "--heartbeat-ms (8000) must be at most half of --lease-ms (15000): one late heartbeat must not lose every lease",
    );
    expect(refusal(["--lease-ms", "1000", "--heartbeat-ms", "600"])).toMatch(/half of --lease-ms \(1000\)/);
    expect(refusal(["--node-name", "a b"])).toMatch(
      /^--node-name must be 1 to 100 characters without spaces or "\/"/,
    );
    expect(refusal(["--node-name", "a/b"])).toMatch(/^--node-name must be/);
    expect(refusal(["--node-name", "x".repeat(101)])).toMatch(/^--node-name must be/);
  });

  test("kiln serve exits 2 with the one line", async () => {
    const run = await kiln(["serve", "--port", "0", "--db", ":memory:", "--heartbeat-ms", "9000"]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split("\n")).toEqual([
      "kiln: --heartbeat-ms (9000) must be at most half of --lease-ms (15000): one late heartbeat must not lose every lease",
    ]);
  });

  test("kiln serve on SQLite takes them: the start-up line names the node, GET /nodes shows its name", async () => {
    const dir = tempDir();
    const server = start(
      [
        "serve",
        "--port",
        "0",
        "--db",
        join(dir.path, "kiln.db"),
        "--node-name",
        "alpha",
        "--lease-ms",
        "3000",
        "--log-format",
        "json",
      ],
      {},
    );
    try {
      await server.waitForOutput(/"kiln serving"/);
      const line = server
        .stdout()
        .split("\n")
        .find((text) => text.includes('"kiln serving"'));
      const logged = JSON.parse(line ?? "{}") as { node: string; url: string };
      expect(logged.node).toMatch(/^alpha\/[0-9a-f]{8}$/);
      const nodes = (await (await fetch(`${logged.url}/nodes`)).json()) as NodeListJson;
      expect(nodes.items.map((node) => [node.id, node.name, node.leader])).toEqual([
        [logged.node, "alpha", true],
      ]);
    } finally {
      server.kill();
      await server.done;
      dir.remove();
    }
  });
});
