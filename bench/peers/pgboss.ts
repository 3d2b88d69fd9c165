// pg-boss against the local PostgreSQL, in a fresh schema dropped afterwards.
import { SQL } from "bun";
import { PgBoss } from "pg-boss";
import { packageVersion } from "./package-version.ts";
import { unreachable } from "./reachable.ts";
import type { Peer } from "./types.ts";

const HOST = "127.0.0.1";
const PORT = 5432;
const USER = "postgres";
const DATABASE = "test";
const URL = `postgres://${USER}@${HOST}:${PORT}/${DATABASE}`;
/** The smallest polling interval pg-boss accepts. */
const POLLING_INTERVAL_S = 0.5;
const SETTLE_POLL_MS = 5;

export interface PgBossOptions {
  /** Jobs one worker fetches and completes at once. */
  batchSize: number;
}

export function pgbossPeer(options: PgBossOptions): Peer {
  let boss: PgBoss | undefined;
  let schema: string | undefined;
  const errors: string[] = [];
  // A connection of its own for the benchmark's queries, so they never wait for pg-boss's pool.
  const sql = new SQL(URL, { max: 1 });
  const live = () => {
    if (!boss || !schema) throw new Error("pg-boss: setup() has not run");
    return { boss, schema };
  };
  const completedCount = async () => {
    const rows = await sql.unsafe(
      `SELECT count(*)::int AS n FROM ${live().schema}.job WHERE state = 'completed'`,
    );
    return (rows[0] as { n: number } | undefined)?.n ?? 0;
  };
  const batched = options.batchSize > 1;
  return {
    label: batched ? `pg-boss (batchSize ${options.batchSize})` : "pg-boss (batchSize 1)",
    version: packageVersion("pg-boss"),
    concurrencyNote: `workers (localConcurrency), each fetching ${options.batchSize} job(s) at a time${
      batched ? ", fetching again at once while batches come back full" : ""
    }; ${POLLING_INTERVAL_S} s polling otherwise`,
    unavailable: () => unreachable("PostgreSQL", HOST, PORT),
    async setup(ctx) {
      schema = ctx.namespace;
      boss = new PgBoss({ host: HOST, port: PORT, user: USER, database: DATABASE, schema });
      boss.on("error", (error: Error) => errors.push(error.message));
      await boss.start();
      await boss.createQueue("bench-noop");
      await boss.work(
        "bench-noop",
        {
          localConcurrency: ctx.concurrency,
          batchSize: options.batchSize,
          pollingIntervalSeconds: POLLING_INTERVAL_S,
          ...(batched ? { burstWhenBatchFull: true } : {}),
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
    async settle(total, timeoutMs) {
      const until = performance.now() + timeoutMs;
      while (performance.now() < until) {
        if ((await completedCount()) >= total) return true;
        await Bun.sleep(SETTLE_POLL_MS);
      }
      return false;
    },
    async durability() {
      const show = async (name: string) =>
        ((await sql.unsafe(`SHOW ${name}`))[0] as Record<string, string> | undefined)?.[name] ?? "?";
      const syncCommit = await show("synchronous_commit");
      const fsync = await show("fsync");
      const waitsForDisk = syncCommit !== "off" && fsync === "on";
      return {
        store: "PostgreSQL",
        short: `PostgreSQL, synchronous_commit=${syncCommit}, fsync=${fsync}`,
        setting: `synchronous_commit=${syncCommit}, fsync=${fsync} (read from the server)`,
        acknowledgedBeforeDisk: !waitsForDisk,
        note: waitsForDisk
          ? "send() and completion return after the commit is flushed to disk: nothing acknowledged is lost, power loss included"
          : "commits are acknowledged before they are flushed",
      };
    },
    completedInStore: completedCount,
    async teardown() {
      try {
        await boss?.stop({ graceful: true, timeout: 5_000 });
        if (errors.length > 0) console.error(`pg-boss reported errors: ${[...new Set(errors)].join("; ")}`);
      } finally {
        if (schema) await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await sql.close();
      }
    },
  };
}
