import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type Logger, TaskManager } from "../engine/index.ts";
import { createKilnApp } from "../http/app.ts";
import { ADMIN_LABEL, readTokenLabel } from "../http/auth-options.ts";
import { installKilnModule } from "../kiln-module.ts";
import { DatabaseInUseError, keyId, UndecryptableValueError } from "../store/index.ts";
import { builtInTasks } from "../tasks/index.ts";
import { CliError } from "./client/errors.ts";
import { SERVE_PROCESS_COMMAND, SERVE_WORKER_URL } from "./compiled.ts";
import { ConfigError, isLoopback, type ServeConfig } from "./config.ts";
import { createServiceLogger } from "./log.ts";

const TASK_FILE = /\.(ts|js|mjs)$/;

/** Loads every *.ts / *.js file of the tasks directory; a file that fails stops start-up. */
async function loadTasksDir(manager: TaskManager, dir: string, logger: Logger): Promise<void> {
  let files: string[];
  try {
    files = readdirSync(dir).filter((file) => TASK_FILE.test(file) && !file.endsWith(".d.ts"));
  } catch (error) {
    throw new ConfigError(`--tasks-dir ${dir}: ${(error as Error).message}`);
  }
  for (const file of files.sort()) {
    const path = resolve(join(dir, file));
    let names: string[];
    try {
      names = await manager.load(pathToFileURL(path));
    } catch (error) {
      throw new ConfigError(`task file ${path}: ${(error as Error).message}`);
    }
    if (names.length === 0) {
      throw new ConfigError(`task file ${path}: it exports no BaseTask subclass with a static taskName`);
    }
    logger.info("task file loaded", { file: path, tasks: names });
  }
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
      processCommand: SERVE_PROCESS_COMMAND,
      preloadedTasks: builtInTasks,
      logger,
      ...(config.concurrency ? { concurrency: config.concurrency } : {}),
      ...(config.encryptionKey
        ? { encryptionKey: config.encryptionKey, decryptionKeys: config.decryptionKeys }
        : {}),
      ...(config.retainMs ? { retainMs: config.retainMs } : {}),
      ...(config.taskMemoryLimitMb ? { taskMemoryLimitMb: config.taskMemoryLimitMb } : {}),
    });
  } catch (error) {
    if (error instanceof DatabaseInUseError) throw new CliError(error.message);
    throw error;
  }
  manager.register(...builtInTasks);
  if (config.tasksDir) await loadTasksDir(manager, config.tasksDir, logger);
  try {
    await manager.start();
  } catch (error) {
    // A missing or wrong key: refuse to serve tasks that could not be read.
    await manager.shutdown();
    if (error instanceof UndecryptableValueError) throw new CliError(`cannot start: ${error.message}`);
    throw error;
  }
  const app = createKilnApp(manager, {
    token: config.token,
    readTokens: config.readTokens,
    corsOrigins: config.corsOrigins,
    maxBodyBytes: config.maxBodyBytes,
    logger,
  }).listen({ hostname: config.host, port: config.port });
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${app.server?.port ?? config.port}`;
  logger.info("kiln serving", {
    url,
    db: resolve(config.db),
    tasks: manager.registry.all().map((task) => task.name),
    encryption: config.encryptionKey ? `aes-256-gcm, key ${keyId(config.encryptionKey)}` : "off",
    ...(config.retainMs ? { retainMs: config.retainMs } : {}),
    // Labels only: a token never reaches the log.
    auth: config.token
      ? [ADMIN_LABEL, ...config.readTokens.map((_, index) => readTokenLabel(index))]
      : "none",
    cors: config.corsOrigins.length > 0 ? config.corsOrigins : "off",
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
