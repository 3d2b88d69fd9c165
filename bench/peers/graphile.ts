// graphile-worker against the local PostgreSQL, in a database of its own created and dropped by
// the run, configured as its performance page's measurements were: 24 concurrent jobs, a pool of
// 25, a local queue of 500 jobs fetched at once, and job completions batched.
import { SQL } from "bun";
import { Logger, makeWorkerUtils, type Runner, run, type WorkerUtils } from "graphile-worker";
import { packageVersion } from "./package-version.ts";
import { createDatabase, dropDatabase, pgDurability, pgUnavailable, pgUrl } from "./postgres.ts";
import type { Peer } from "./types.ts";

const CONCURRENCY = 24;
const MAX_POOL_SIZE = 25;
const LOCAL_QUEUE_SIZE = 500;
const SETTLE_POLL_MS = 5;
const quiet = new Logger(() => () => {});

export function graphilePeer(): Peer {
  let database: string | undefined;
  let runner: Runner | undefined;
  let utils: WorkerUtils | undefined;
  let sql: SQL | undefined;
  /** Jobs added so far: graphile-worker deletes a job once it completed. */
  let added = 0;
  const live = () => {
    if (!runner || !utils || !sql) throw new Error("graphile-worker: setup() has not run");
    return { runner, utils, sql };
  };
  const remaining = async () => {
    const rows = await live().sql.unsafe("SELECT count(*)::int AS n FROM graphile_worker._private_jobs");
    return (rows[0] as { n: number } | undefined)?.n ?? 0;
  };
  return {
    label: "graphile-worker",
    version: packageVersion("graphile-worker"),
    settings: `concurrency ${CONCURRENCY}, maxPoolSize ${MAX_POOL_SIZE}, localQueue.size ${LOCAL_QUEUE_SIZE}, completeJobBatchDelay 0; addJob() per job, addJobs() for a bulk (WorkerUtils)`,
    why: "the configuration its performance page reports its figures with (concurrentJobs 24, maxPoolSize 25, localQueue size 500, completeJobBatchDelay and failJobBatchDelay 0); addJobs is its documented bulk call",
    unavailable: pgUnavailable,
    async setup(ctx) {
      database = ctx.namespace;
      await createDatabase(database);
      const connectionString = pgUrl(database);
      sql = new SQL(connectionString, { max: 1 });
      runner = await run({
        connectionString,
        concurrency: CONCURRENCY,
        maxPoolSize: MAX_POOL_SIZE,
        noHandleSignals: true,
        logger: quiet,
        parsedCronItems: [],
        taskList: {
          // Completed (deleted from the jobs table) in a batch after this returns; settle() waits for it.
          noop: async () => {
            ctx.completed();
          },
        },
        preset: {
          worker: { localQueue: { size: LOCAL_QUEUE_SIZE }, completeJobBatchDelay: 0, failJobBatchDelay: 0 },
        },
      });
      utils = await makeWorkerUtils({ connectionString, logger: quiet });
    },
    enqueue() {
      added++;
      return live().utils.addJob("noop", {});
    },
    enqueueMany(count) {
      added += count;
      return live().utils.addJobs(Array.from({ length: count }, () => ({ identifier: "noop", payload: {} })));
    },
    async settle(total, timeoutMs) {
      const until = performance.now() + timeoutMs;
      while (performance.now() < until) {
        if (added - (await remaining()) >= total) return true;
        await Bun.sleep(SETTLE_POLL_MS);
      }
      return false;
    },
    durability: () => pgDurability(live().sql, "addJob()"),
    async completedInStore() {
      return added - (await remaining());
    },
    async teardown() {
      try {
        await runner?.stop();
        await utils?.release();
      } finally {
        await sql?.close();
        if (database) await dropDatabase(database);
      }
    },
  };
}
