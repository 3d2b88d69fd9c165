// kiln's HTTP API over a TaskManager on PostgresTaskStore, started the way `kiln serve` starts
// (owner lock, migrate, restore, listen), for the PostgreSQL start-up figures: this checkout's CLI
// opens SQLite files only. Takes the CLI's flags so ServeProcess can launch it like `kiln serve`:
// bun bench/pg-serve.ts serve --host <host> --port <port> --db postgres://…
// Ends on SIGTERM or SIGINT.
import { createKilnApp } from "../src/http/index.ts";
import { PostgresTaskStore, silentLogger, TaskManager } from "../src/index.ts";
import { TASKS_URL } from "./util.ts";

function flag(name: string): string {
  const index = Bun.argv.indexOf(name);
  const value = index >= 0 ? Bun.argv[index + 1] : undefined;
  if (!value) {
    console.error("usage: bun bench/pg-serve.ts serve --host <host> --port <port> --db postgres://…");
    process.exit(2);
  }
  return value;
}

const store = new PostgresTaskStore({ url: flag("--db") });
await store.acquireOwnerLock();
const manager = new TaskManager({ store, logger: silentLogger });
await manager.load(TASKS_URL);
await manager.start();
const app = createKilnApp(manager).listen({ hostname: flag("--host"), port: Number(flag("--port")) });

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await app.stop();
  await manager.shutdown();
  await store.close();
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
