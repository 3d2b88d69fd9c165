// kiln itself, through the TaskManager API, under the same driver as its peers: `submit` (the
// calls of one chunk in flight together, like an async peer's, sharing a commit) or `create`
// (synchronous, one commit per call).
import { join } from "node:path";
import packageJson from "../../package.json";
import { silentLogger, TaskManager } from "../../src/index.ts";
import { TASKS_URL } from "../util.ts";
import type { Peer } from "./types.ts";

export function kilnPeer(api: "submit" | "create"): Peer {
  let manager: TaskManager | undefined;
  const live = () => {
    if (!manager) throw new Error("kiln: setup() has not run");
    return manager;
  };
  return {
    label: api === "submit" ? "kiln" : "kiln, create()",
    version: `kiln@${packageJson.version}`,
    concurrencyNote: "worker threads (TaskManager concurrency)",
    unavailable: async () => null,
    async setup(ctx) {
      manager = new TaskManager({
        db: join(ctx.dir, "kiln.db"),
        concurrency: ctx.concurrency,
        logger: silentLogger,
      });
      await manager.load(TASKS_URL);
      await manager.start();
      // Emitted after the FINISHED row and its history event are committed.
      manager.subscribe((event) => {
        if (event.type === "transition" && event.to === "FINISHED") ctx.completed();
      });
    },
    enqueue() {
      if (api === "submit") return live().submit("bench-noop", null);
      live().create("bench-noop", null);
      return undefined;
    },
    async durability() {
      return {
        store: "SQLite file (WAL)",
        short: `SQLite WAL, synchronous=NORMAL, ${api}()`,
        setting:
          api === "submit"
            ? "synchronous=NORMAL (SqliteTaskStore); submit() resolves after the commit its turn's creates share; a run's end and the next start one commit; a history row each"
            : "synchronous=NORMAL (SqliteTaskStore); each create() its own commit; a run's end and the next start one commit; a history row each",
        acknowledgedBeforeDisk: false,
        note: `${api}() ${api === "submit" ? "resolves" : "returns"} and FINISHED is announced after the commit: a process crash loses nothing; an OS crash or power loss can roll back the commits since the last WAL sync`,
      };
    },
    async completedInStore() {
      return live().store.countByStatus().FINISHED;
    },
    async teardown() {
      await manager?.shutdown();
    },
  };
}
