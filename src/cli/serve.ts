import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { TaskManager } from "../engine/index.ts";
import { createKilnApp } from "../http/app.ts";
import { ConfigError, type ServeConfig } from "./config.ts";

const BUILT_IN_TASKS = new URL("../tasks/index.ts", import.meta.url);

/** Loads every *.ts / *.js file of the tasks directory; a file that fails stops start-up. */
async function loadTasksDir(manager: TaskManager, dir: string): Promise<void> {
  let files: string[];
  try {
    files = readdirSync(dir).filter((file) => /\.(ts|js|mjs)$/.test(file) && !file.endsWith(".d.ts"));
  } catch (error) {
    throw new ConfigError(`--tasks-dir ${dir}: ${(error as Error).message}`);
  }
  for (const file of files.sort()) {
    const path = resolve(join(dir, file));
    try {
      const names = await manager.load(pathToFileURL(path));
      if (names.length === 0) throw new Error("it exports no BaseTask subclass with a static taskName");
    } catch (error) {
      throw new ConfigError(`task file ${path}: ${(error as Error).message}`);
    }
  }
}

/** Starts the engine and the HTTP server; SIGTERM / SIGINT shut both down cleanly. */
export async function serve(config: ServeConfig): Promise<void> {
  const manager = new TaskManager({
    db: config.db,
    ...(config.concurrency ? { concurrency: config.concurrency } : {}),
  });
  await manager.load(BUILT_IN_TASKS);
  if (config.tasksDir) await loadTasksDir(manager, config.tasksDir);
  await manager.start();
  const app = createKilnApp(manager).listen({ hostname: config.host, port: config.port });
  const address = `http://${config.host}:${app.server?.port ?? config.port}`;
  console.log(JSON.stringify({ level: "info", msg: "kiln serving", url: address, db: resolve(config.db) }));
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(JSON.stringify({ level: "info", msg: "shutting down", signal }));
    await app.stop();
    await manager.shutdown();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}
