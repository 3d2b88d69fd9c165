// A kiln server in its own process, so the fuzz test can measure its memory alone. It talks to
// the test over IPC: "ready" with its port, routes and seeded task ids; answers to "memory"
// and "quiet"; server faults it logs are forwarded as "log".
import { join } from "node:path";
import { LOOPBACK_HOSTS } from "../../src/http/allowed-hosts.ts";
import { createKilnApp } from "../../src/http/index.ts";
import { type Logger, TaskManager } from "../../src/index.ts";
import { FUZZ_CORS_ORIGIN } from "./header-arbitraries.ts";
import type { ChildMessage, ParentMessage } from "./protocol.ts";

const dir = process.argv[2];
if (!dir) throw new Error("usage: server-child.ts <dir>");
const dbPath = join(dir, "kiln.db");
const send = (message: ChildMessage): void => {
  process.send?.(message);
};

const forward =
  (level: "warn" | "error") =>
  (message: string, fields?: Record<string, unknown>): void =>
    send({ type: "log", level, message, fields: JSON.stringify(fields ?? {}) });
const logger: Logger = { debug() {}, info() {}, warn: forward("warn"), error: forward("error") };

const manager = new TaskManager({ db: dbPath, concurrency: 2, telemetryIntervalMs: 10, logger });
await manager.load(new URL("./tasks.ts", import.meta.url));
await manager.start();

// Real rows for the fuzzed ids to hit: ended, waiting far in the future, and paused.
const ids: string[] = [];
for (let i = 0; i < 3; i++) {
  const { task } = await manager.create("echo", { value: i });
  await manager.waitFor(task.id, (current) => current.status === "FINISHED");
  ids.push(task.id);
}
const farAway = Date.now() + 10 * 365 * 24 * 3_600_000;
ids.push((await manager.create("echo", { value: "later" }, { runAt: farAway })).task.id);
const paused = (await manager.create("echo", { value: "paused" }, { runAt: farAway })).task.id;
await manager.pause(paused);
ids.push(paused);

// As kiln serve on loopback: loopback Host names only, and one allowed CORS origin.
const app = createKilnApp(manager, {
  logger,
  allowedHosts: LOOPBACK_HOSTS,
  corsOrigins: [FUZZ_CORS_ORIGIN],
}).listen({ hostname: "127.0.0.1", port: 0 });
const port = app.server?.port;
if (!port) throw new Error("the server did not start");

/** No run in progress and none due within a minute: the database will not change by itself. */
async function quiet(): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const soon = Date.now() + 60_000;
    const due = (await manager.list({ status: "PENDING", limit: 500 })).items.some(
      (task) => (task.runAt ?? 0) < soon,
    );
    if (manager.stats().running === 0 && !due) {
      await Bun.sleep(30); // two telemetry ticks
      if (manager.stats().running === 0) return true;
    }
    await Bun.sleep(10);
  }
  return false;
}

process.on("message", async (message: ParentMessage) => {
  switch (message.type) {
    case "memory": {
      Bun.gc(true);
      const { rss, heapUsed } = process.memoryUsage();
      send({ type: "memory", rss, heapUsed });
      return;
    }
    case "quiet":
      send({ type: "quiet", quiet: await quiet() });
      return;
    case "stop":
      await app.stop(true);
      await manager.shutdown();
      process.exit(0);
  }
});

send({
  type: "ready",
  port,
  dbPath,
  ids,
  routes: app.routes.map((route) => ({ method: route.method, path: route.path })),
});
