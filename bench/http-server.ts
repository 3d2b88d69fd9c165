// Server process of the "http" scenario: kiln's HTTP API over a TaskManager with the bench tasks,
// on 127.0.0.1 and an ephemeral port. It runs apart from the load generator so the two do not
// share an event loop. Usage: bun bench/http-server.ts [--concurrency N]
// Prints one JSON line `{"port": N}` once it serves; ends on SIGTERM, SIGINT or when stdin closes
// (the parent went away), removing its temp database.
import { createKilnApp } from "../src/http/index.ts";
import { silentLogger, TaskManager } from "../src/index.ts";
import { TASKS_URL, tempDir } from "./util.ts";

/** A route outside kiln's API through which the parent reads this process's CPU time and queue. */
export const USAGE_PATH = "/__bench/usage";

export interface ServerUsage {
  /** process.cpuUsage() of this process (all threads, workers included), in microseconds. */
  cpuMicros: number;
  running: number;
  queued: number;
  finished: number;
}

function concurrencyArg(argv: string[]): number {
  const index = argv.indexOf("--concurrency");
  const value = index >= 0 ? Number(argv[index + 1]) : 2;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--concurrency must be an integer ≥ 1`);
  return value;
}

if (import.meta.main) {
  const tmp = tempDir("http");
  const manager = new TaskManager({
    db: tmp.db,
    concurrency: concurrencyArg(Bun.argv),
    logger: silentLogger,
  });
  await manager.load(TASKS_URL);
  await manager.start();
  const app = createKilnApp(manager)
    .get(USAGE_PATH, (): ServerUsage => {
      const cpu = process.cpuUsage();
      const stats = manager.stats();
      return {
        cpuMicros: cpu.user + cpu.system,
        running: stats.running,
        queued: stats.queued,
        finished: manager.store.countByStatus().FINISHED,
      };
    })
    .listen({ hostname: "127.0.0.1", port: 0 });

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await app.stop();
    await manager.shutdown();
    tmp.cleanup();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
  console.log(JSON.stringify({ port: app.server?.port }));

  // EOF on stdin: the parent exited without signalling, so nothing will ever stop this process.
  for await (const _chunk of Bun.stdin.stream()) {
    // The parent writes nothing; the loop only waits for the end of the stream.
  }
  await stop();
}
