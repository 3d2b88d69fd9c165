// pg-boss against the local PostgreSQL, in a database of its own created and dropped by the run,
// with LISTEN/NOTIFY on so its workers wake when a job is created instead of at their next poll.
import { SQL } from "bun";
import { PgBoss } from "pg-boss";
import { packageVersion } from "./package-version.ts";
import { createDatabase, dropDatabase, pgDurability, pgUnavailable, pgUrl } from "./postgres.ts";
import type { Peer } from "./types.ts";

/** Workers (each its own fetch loop) and jobs each fetches and completes at once. */
const LOCAL_CONCURRENCY = 8;
const BATCH_SIZE = 50;
/** The smallest base polling interval pg-boss accepts; with NOTIFY on it is only the fallback. */
const POLLING_INTERVAL_S = 0.5;
const SETTLE_POLL_MS = 5;

export function pgbossPeer(): Peer {
  let boss: PgBoss | undefined;
  let database: string | undefined;
  let sql: SQL | undefined;
  const errors: string[] = [];
  const live = () => {
    if (!boss || !sql) throw new Error("pg-boss: setup() has not run");
    return { boss, sql };
  };
  const completedCount = async () => {
    const rows = await live().sql.unsafe(
      "SELECT count(*)::int AS n FROM pgboss.job WHERE state = 'completed'",
    );
    return (rows[0] as { n: number } | undefined)?.n ?? 0;
  };
  return {
    label: "pg-boss",
    version: packageVersion("pg-boss"),
    settings: `useListenNotify and the queue's notify on; localConcurrency ${LOCAL_CONCURRENCY} workers, batchSize ${BATCH_SIZE} with burstWhenBatchFull; send() per job, insert() for a bulk`,
    why: `its types document useListenNotify plus a queue's notify option to wake workers at once (otherwise they wait the polling interval, at least 0.5 s, after a short fetch), and batchSize with burstWhenBatchFull to drain a backlog; ${LOCAL_CONCURRENCY} workers stay within its default pool of 10 connections`,
    unavailable: pgUnavailable,
    async setup(ctx) {
      database = ctx.namespace;
      await createDatabase(database);
      // A connection of its own for the benchmark's queries, so they never wait for pg-boss's pool.
      sql = new SQL(pgUrl(database), { max: 1 });
      boss = new PgBoss({ connectionString: pgUrl(database), useListenNotify: true });
      boss.on("error", (error: Error) => errors.push(error.message));
      boss.on("warning", (warning: { message?: string }) => errors.push(`warning: ${warning.message ?? ""}`));
      await boss.start();
      await boss.createQueue("bench-noop", { notify: true });
      await boss.work(
        "bench-noop",
        {
          localConcurrency: LOCAL_CONCURRENCY,
          batchSize: BATCH_SIZE,
          burstWhenBatchFull: true,
          pollingIntervalSeconds: POLLING_INTERVAL_S,
        },
        // pg-boss completes the batch after this returns; settle() waits for that.
        async (jobs) => {
          ctx.completed(jobs.length);
        },
      );
    },
    enqueue() {
      return live().boss.send("bench-noop", null);
    },
    enqueueMany(count) {
      return live().boss.insert(
        "bench-noop",
        Array.from({ length: count }, () => ({})),
      );
    },
    async settle(total, timeoutMs) {
      const until = performance.now() + timeoutMs;
      while (performance.now() < until) {
        if ((await completedCount()) >= total) return true;
        await Bun.sleep(SETTLE_POLL_MS);
      }
      return false;
    },
    durability: () => pgDurability(live().sql, "send()"),
    completedInStore: completedCount,
    async teardown() {
      try {
        await boss?.stop({ graceful: true, timeout: 5_000 });
        if (errors.length > 0) console.error(`pg-boss reported: ${[...new Set(errors)].join("; ")}`);
      } finally {
        await sql?.close();
        if (database) await dropDatabase(database);
      }
    },
  };
}
