import { resolve } from "node:path";
import { StorageUnavailableError, storageFaultOf, TaskManager } from "../engine/index.ts";
import { createKilnApp } from "../http/app.ts";
import { ADMIN_LABEL, readTokenLabel } from "../http/auth-options.ts";
import { installKilnModule } from "../kiln-module.ts";
import { DatabaseInUseError, keyId, UndecryptableValueError } from "../store/index.ts";
import { builtInTasks } from "../tasks/index.ts";
import { CliError } from "./client/errors.ts";
import { SERVE_PROCESS_COMMAND, SERVE_WORKER_URL } from "./compiled.ts";
import { isLoopback, type ServeConfig } from "./config.ts";
import { assertAddressFree, listenOrExplain, listenUrl } from "./listen-address.ts";
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
  for (const warning of config.secretFiles.warnings) logger.warn(warning);
  // Task files import "kiln"; it must be this process's SDK, in a compiled binary too.
  installKilnModule();
  assertAddressFree(config.host, config.port);
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
      fileRoots: config.filesRoots,
      // What an admin token must not reach through the file tasks: secrets, code kiln would run.
      protectedFiles: [
        ...config.secretFiles.paths,
        ...(config.tasksDir ? [resolve(config.tasksDir)] : []),
        process.execPath,
      ],
    });
  } catch (error) {
    throw databaseProblem(error, config.db) ?? error;
  }
  manager.register(...builtInTasks);
  if (config.tasksDir) await loadTasksDir(manager, config.tasksDir, logger);
  try {
    await manager.start();
  } catch (error) {
    // A missing or wrong key: refuse to serve tasks that could not be read.
    await manager.shutdown();
    if (error instanceof UndecryptableValueError) throw new CliError(`cannot start: ${error.message}`);
    throw databaseProblem(error, config.db) ?? error;
  }
  const unbound = createKilnApp(manager, {
    token: config.token,
    readTokens: config.readTokens,
    corsOrigins: config.corsOrigins,
    allowedHosts: config.allowedHosts,
    maxBodyBytes: config.maxBodyBytes,
    logger,
  });
  let app: typeof unbound;
  try {
    // Taken since the check above (another server started meanwhile): the engine must stop cleanly.
    app = listenOrExplain(config.host, config.port, () =>
      unbound.listen({ hostname: config.host, port: config.port }),
    );
  } catch (error) {
    await manager.shutdown();
    throw error;
  }
  const url = listenUrl(config.host, app.server?.port ?? config.port);
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
    allowedHosts: config.allowedHosts ?? "any",
    filesRoots: config.filesRoots.length > 0 ? config.filesRoots : "none (file tasks disabled)",
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
