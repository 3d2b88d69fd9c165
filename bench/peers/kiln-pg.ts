// kiln's engine on PostgresTaskStore, in a database of its own created and dropped by the run:
// the same TaskManager calls as the SQLite peer (submit() per job, submitMany() for a bulk), its
// durability read from the server it writes to.
import packageJson from "../../package.json";
import { PostgresTaskStore, silentLogger, TaskManager } from "../../src/index.ts";
import { TASKS_URL } from "../util.ts";
import { createDatabase, dropDatabase, pgDurability, pgUnavailable, pgUrl } from "./postgres.ts";
import type { Peer } from "./types.ts";

export interface KilnPgPeerOptions {
  /** Worker threads; undefined: the TaskManager default (CPU cores, at least 2). */
  concurrency: number | undefined;
  /** Connections in the store's pool; undefined: the store's default (10). */
  poolSize: number | undefined;
}

export function kilnPgPeer(options: KilnPgPeerOptions): Peer {
  let manager: TaskManager | undefined;
  let store: PostgresTaskStore | undefined;
  let database: string | undefined;
  const live = () => {
    if (!manager || !store) throw new Error("kiln-pg: setup() has not run");
    return { manager, store };
  };
  const best = options.concurrency !== undefined || options.poolSize !== undefined;
  const settings = [
    options.concurrency === undefined
      ? "concurrency = CPU cores, at least 2"
      : `concurrency ${options.concurrency}`,
    options.poolSize === undefined
      ? "pool of 10 connections (the store's default)"
      : `pool of ${options.poolSize}`,
  ];
  return {
    label: `kiln on PostgreSQL${best ? `, ${options.concurrency ?? "default"} workers, pool ${options.poolSize ?? 10}` : ", defaults"}`,
    version: `kiln@${packageJson.version}`,
    settings: `new TaskManager({ store: new PostgresTaskStore({ url }) }), ${settings.join(", ")}; submit() per job, submitMany() for a bulk`,
    why: best
      ? "the worker count of kiln's SQLite 'best' and a pool as large as graphile-worker's, to see whether either limits it"
      : "what `new TaskManager({ store: new PostgresTaskStore({ url }) })` does with nothing else set",
    unavailable: pgUnavailable,
    async setup(ctx) {
      database = ctx.namespace;
      await createDatabase(database);
      store = new PostgresTaskStore({ url: pgUrl(database), max: options.poolSize });
      manager = new TaskManager({
        store,
        ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
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
      return live().manager.submit("bench-noop", null);
    },
    enqueueMany(count) {
      return live().manager.submitMany("bench-noop", new Array(count).fill(null));
    },
    async durability() {
      // The benchmark's own connection, so the SHOWs never wait behind the store's pool.
      const { SQL } = await import("bun");
      const sql = new SQL(pgUrl(database ?? "postgres"), { max: 1 });
      try {
        return await pgDurability(sql, "submit() (a commit per turn of submits)");
      } finally {
        await sql.close();
      }
    },
    async completedInStore() {
      return (await live().store.countByStatus()).FINISHED;
    },
    async teardown() {
      try {
        await manager?.shutdown();
        await store?.close();
      } finally {
        if (database) await dropDatabase(database);
      }
    },
  };
}
