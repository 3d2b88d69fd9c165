import { resolve } from "node:path";
import { StorageUnavailableError, storageFaultOf, TaskManager } from "../engine/index.ts";
import { createKilnApp } from "../http/app.ts";
import { installKilnModule } from "../kiln-module.ts";
import { DatabaseInUseError } from "../store/index.ts";
import { builtInTasks } from "../tasks/index.ts";
import { CliError } from "./client/errors.ts";
import { SERVE_WORKER_URL } from "./compiled.ts";
import { isLoopback, type ServeConfig } from "./config.ts";
import { createServiceLogger } from "./log.ts";
import { loadTasksDir } from "./tasks-dir.ts";

/** One line for a database kiln cannot open or write at start-up, instead of a stack. */
function databaseProblem(error: unknown, db: string): CliError | undefined {
  if (error instanceof DatabaseInUseError) return new CliError(error.message);
  const fault = error instanceof StorageUnavailableError ? error.fault : storageFaultOf(error, db);
  if (!fault) return undefined;
  return new CliError(`cannot use the database ${db}: ${fault.description} (${fault.code})`);
}

/** Starts the engine and the HTTP server; SIGTERM / SIGINT shut both down cleanly. */
export async function serve(config: ServeConfig): Promise<void> {
  const logger = createServiceLogger(config.logLevel, config.logFormat);
  // Task files import "kiln"; it must be this process's SDK, in a compiled binary too.
  installKilnModule();
  let manager: TaskManager;
  try {
    manager = new TaskManager({
      db: config.db,
      workerUrl: SERVE_WORKER_URL,
      preloadedTasks: builtInTasks,
      logger,
      ...(config.concurrency ? { concurrency: config.concurrency } : {}),
    });
  } catch (error) {
    throw databaseProblem(error, config.db) ?? error;
  }
  manager.register(...builtInTasks);
  if (config.tasksDir) await loadTasksDir(manager, config.tasksDir, logger);
  try {
    await manager.start();
  } catch (error) {
    throw databaseProblem(error, config.db) ?? error;
  }
  const app = createKilnApp(manager, {
    token: config.token,
    maxBodyBytes: config.maxBodyBytes,
    logger,
  }).listen({ hostname: config.host, port: config.port });
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${app.server?.port ?? config.port}`;
  logger.info("kiln serving", {
    url,
    db: resolve(config.db),
    tasks: manager.registry.all().map((task) => task.name),
    auth: config.token ? "bearer token" : "none",
  });
  if (!config.token && !isLoopback(config.host)) {
    logger.warn(
      "listening on a non-loopback address without a token: anyone who can reach it can run tasks",
      {
        host: config.host,
        fix: "set --token or KILN_TOKEN",
      },
    );
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down", { signal });
    await app.stop();
    await manager.shutdown();
    logger.info("stopped", { signal });
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}
