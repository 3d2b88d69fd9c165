import { randomBytes } from "node:crypto";
import { hostname } from "node:os";

/** Who this process is among the nodes sharing a database. */
export interface NodeIdentity {
  /** `<name>/<8 hex digits>`: unique per start, so fencing never mistakes a restarted node for its old self. */
  readonly id: string;
  readonly name: string;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: number;
}

/** The longest node name: it is part of every node id, and ids travel in NOTIFY payloads. */
export const MAX_NODE_NAME_LENGTH = 100;

/** A fresh identity; `name` defaults to `<host>-<pid>`. */
export function newNodeIdentity(name?: string): NodeIdentity {
  const host = hostname();
  const pid = process.pid;
  const chosen = name ?? `${host}-${pid}`;
  if (chosen.length === 0 || chosen.length > MAX_NODE_NAME_LENGTH || /[\s/]/.test(chosen))
    throw new Error(
      `node name ${JSON.stringify(chosen)} is not valid: 1 to ${MAX_NODE_NAME_LENGTH} characters, no spaces and no "/"`,
    );
  return {
    id: `${chosen}/${randomBytes(4).toString("hex")}`,
    name: chosen,
    host,
    pid,
    startedAt: Date.now(),
  };
}
