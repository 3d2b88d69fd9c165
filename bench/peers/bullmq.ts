// BullMQ against the local Redis, through ioredis (BullMQ's own client), with a fresh key prefix.
import { Queue, Worker } from "bullmq";
import IORedis from "ioredis";
import { LEVEL_WORDS, redisLevel } from "./durability-level.ts";
import { packageVersion } from "./package-version.ts";
import { unreachable } from "./reachable.ts";
import type { Peer } from "./types.ts";

const HOST = "127.0.0.1";
const PORT = 6379;
// BullMQ requires maxRetriesPerRequest: null on the connections its workers block on.
const connection = { host: HOST, port: PORT, maxRetriesPerRequest: null };
/** The local concurrency factor BullMQ's concurrency guide shows for async jobs. */
const CONCURRENCY = 50;

async function redisConfig(keys: string[]): Promise<Record<string, string>> {
  const redis = new IORedis(connection);
  try {
    const out: Record<string, string> = {};
    for (const key of keys) {
      const reply = (await redis.config("GET", key)) as string[];
      out[key] = reply[1] ?? "?";
    }
    return out;
  } finally {
    redis.disconnect();
  }
}

export function bullmqPeer(): Peer {
  let queue: Queue | undefined;
  let worker: Worker | undefined;
  const live = () => {
    if (!queue) throw new Error("BullMQ: setup() has not run");
    return queue;
  };
  return {
    label: "BullMQ",
    version: `${packageVersion("bullmq")} + ${packageVersion("ioredis")}`,
    settings: `one Worker, concurrency ${CONCURRENCY}; add() per job, addBulk() for a bulk`,
    why: `its guide to worker concurrency sets concurrency: ${CONCURRENCY} for jobs that await I/O; addBulk is its documented bulk call (one round trip)`,
    unavailable: () => unreachable("Redis", HOST, PORT),
    async setup(ctx) {
      queue = new Queue("bench-noop", { connection, prefix: ctx.namespace });
      worker = new Worker("bench-noop", async () => null, {
        connection,
        prefix: ctx.namespace,
        concurrency: CONCURRENCY,
      });
      // Emitted after the job was moved to the completed set in Redis.
      worker.on("completed", () => ctx.completed());
      await worker.waitUntilReady();
    },
    enqueue() {
      return live().add("noop", null);
    },
    enqueueMany(count) {
      return live().addBulk(Array.from({ length: count }, () => ({ name: "noop", data: null })));
    },
    async durability() {
      const config = await redisConfig(["appendonly", "appendfsync", "save"]);
      const level = redisLevel(config.appendonly ?? "?", config.appendfsync ?? "?");
      const persistence =
        config.appendonly === "yes"
          ? `AOF with appendfsync=${config.appendfsync}`
          : config.save
            ? `RDB snapshots only (save "${config.save}")`
            : "nothing: no AOF, no RDB snapshots";
      return {
        level,
        short:
          config.appendonly === "yes"
            ? `Redis, AOF appendfsync=${config.appendfsync}`
            : config.save
              ? "Redis, RDB snapshots only"
              : "Redis, no AOF, no RDB",
        setting: `appendonly=${config.appendonly}, appendfsync=${config.appendfsync}, save="${config.save}" (read from the server)`,
        note: `this server persists ${persistence}: ${LEVEL_WORDS[level]}`,
      };
    },
    async completedInStore() {
      return live().getCompletedCount();
    },
    async teardown() {
      await worker?.close();
      if (queue) {
        await queue.obliterate({ force: true });
        await queue.close();
      }
    },
  };
}
