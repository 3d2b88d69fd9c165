import { resolve } from "node:path";
import { builtInTasks } from "../builtin-tasks/index.ts";
import { resolveClusterTuning } from "../cluster/tuning.ts";
import { logTaskTransitions, StorageUnavailableError, storageFaultOf, TaskManager } from "../engine/index.ts";
import { createKilnApp } from "../http/app.ts";
import { ADMIN_LABEL, readTokenLabel } from "../http/auth-options.ts";
import { installKilnModule } from "../kiln-module.ts";
import {
  DatabaseInUseError,
  describeFault,
  keyId,
  parseStoreLocation,
  UndecryptableValueError,
} from "../store/index.ts";
import { WebhookDispatcher } from "../webhooks/index.ts";
import { CliError } from "./client/errors.ts";
import { SERVE_PROCESS_COMMAND, SERVE_WEBHOOK_WORKER_URL, SERVE_WORKER_URL } from "./compiled.ts";
import { isLoopback, type ServeConfig } from "./config.ts";
import { assertAddressFree, listenOrExplain, listenUrl } from "./listen-address.ts";
import { createServiceLogger } from "./log.ts";
import { LogFile } from "./log-file.ts";
import {
  openServerStore,
  postgresDurability,
  serverProblem,
  shownLocation,
  watchOwnerLock,
} from "./serve-store.ts";
import { exitOnSignals } from "./shutdown.ts";
import { StdoutLines } from "./stdout-lines.ts";
import { surviveStraySocketErrors } from "./stray-socket-errors.ts";
import { loadTasksDir } from "./tasks-dir.ts";

/** How long shutdown waits for queued webhook deliveries, after the tasks are saved. */
const WEBHOOK_SHUTDOWN_GRACE_MS = 2_000;

/** One line for a database kiln cannot open or write at start-up, instead of a stack. */
function databaseProblem(error: unknown, db: string): CliError | undefined {
  if (error instanceof DatabaseInUseError) return new CliError(error.message);
  const fault = error instanceof StorageUnavailableError ? error.fault : storageFaultOf(error, db);
  if (!fault) return undefined;
  return new CliError(`cannot use the database ${db}: ${describeFault(fault)}`);
}

/**
 * How long running tasks get to reach a checkpoint at shutdown before they are ended. With the
 * drain below, kiln exits within 9 s: inside the 10 s `docker stop` waits before SIGKILL.
 */
export const SHUTDOWN_GRACE_MS = 8_000;
/** How long requests in flight get to finish at shutdown before their connections are closed. */
export const HTTP_DRAIN_MS = 1_000;
/** Past this, a shutdown that is stuck (it should not be) is abandoned and kiln exits 1. */
export const SHUTDOWN_DEADLINE_MS = HTTP_DRAIN_MS + SHUTDOWN_GRACE_MS + 5_000;

/** True when `promise` settled within `ms`. */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([promise.then(() => true), timeout]).finally(() => clearTimeout(timer));
}

/** The log file, if one is configured: flushed at exit, reopened on SIGHUP (logrotate). */
function openLogFile(config: ServeConfig): LogFile | undefined {
  if (!config.logFile) return undefined;
  let file: LogFile;
  try {
    file = new LogFile(config.logFile);
  } catch (error) {
    throw new CliError(`cannot open the log file ${config.logFile.path}: ${(error as Error).message}`);
  }
  process.on("exit", () => file.flush());
  process.on("SIGHUP", () => file.reopen());
  return file;
}

/** Starts the engine and the HTTP server; SIGTERM / SIGINT shut both down cleanly. */
export async function serve(config: ServeConfig): Promise<void> {
  const logFile = openLogFile(config);
  const stdout = new StdoutLines();
  process.on("exit", () => stdout.flush());
  const logger = createServiceLogger(config.logLevel, config.logFormat, stdout.write, logFile?.write);
  for (const warning of config.secretFiles.warnings) logger.warn(warning);
  // Task files import "kiln"; it must be this process's SDK, in a compiled binary too.
  installKilnModule();
  assertAddressFree(config.host, config.port);
  const location = parseStoreLocation(config.db);
  // PostgreSQL: kiln opens the store (and takes the database) itself; SQLite: the engine does.
  const pgStore = location.dialect === "postgres" ? await openServerStore(config, location.url) : undefined;
  if (pgStore) {
    surviveStraySocketErrors(logger, () => {
      stdout.flush();
      logFile?.flush();
      process.exit(1);
    });
  }
  const problem = (error: unknown) =>
    pgStore && location.dialect === "postgres"
      ? serverProblem(error, pgStore, location.url)
      : (databaseProblem(error, config.db) ?? error);
  const keys = config.encryptionKey
    ? { encryptionKey: config.encryptionKey, decryptionKeys: config.decryptionKeys }
    : {};
  let manager: TaskManager;
  try {
    manager = new TaskManager({
      ...(pgStore ? { store: pgStore } : { db: config.db, durability: config.durability, ...keys }),
      workerUrl: SERVE_WORKER_URL,
      processCommand: SERVE_PROCESS_COMMAND,
      preloadedTasks: builtInTasks,
      logger,
      shutdownGraceMs: SHUTDOWN_GRACE_MS,
      ...(config.nodeName ? { nodeName: config.nodeName } : {}),
      cluster: config.cluster,
      ...(config.concurrency ? { concurrency: config.concurrency } : {}),
      ...(config.retainMs ? { retainMs: config.retainMs } : {}),
      ...(config.taskMemoryLimitMb ? { taskMemoryLimitMb: config.taskMemoryLimitMb } : {}),
      ...(config.maxResultBytes ? { maxResultBytes: config.maxResultBytes } : {}),
      ...(config.maxCheckpointBytes ? { maxCheckpointBytes: config.maxCheckpointBytes } : {}),
      ...(config.maxLogLineBytes ? { maxLogLineBytes: config.maxLogLineBytes } : {}),
      fileRoots: config.filesRoots,
      // What an admin token must not reach through the file tasks: secrets, code kiln would run.
      protectedFiles: [
        ...config.secretFiles.paths,
        ...(config.tasksDir ? [resolve(config.tasksDir)] : []),
        process.execPath,
      ],
    });
  } catch (error) {
    await pgStore?.close();
    throw problem(error);
  }
  manager.register(...builtInTasks);
  // One line per task transition: what `docker logs` shows of the tasks.
  manager.onTransition(logTaskTransitions(logger));
  const webhooks =
    config.webhooks.length > 0 && config.webhookSecret
      ? new WebhookDispatcher({
          urls: config.webhooks,
          secret: config.webhookSecret,
          logger,
          workerUrl: SERVE_WEBHOOK_WORKER_URL,
        })
      : undefined;
  webhooks?.attach(manager);
  if (config.tasksDir) await loadTasksDir(manager, config.tasksDir, logger);
  try {
    await manager.start();
  } catch (error) {
    // A missing or wrong key: refuse to serve tasks that could not be read.
    await manager.shutdown();
    await pgStore?.close();
    if (error instanceof UndecryptableValueError) throw new CliError(`cannot start: ${error.message}`);
    throw problem(error);
  }
  const closing = new AbortController();
  const unbound = createKilnApp(manager, {
    shutdownSignal: closing.signal,
    token: config.token,
    readTokens: config.readTokens,
    corsOrigins: config.corsOrigins,
    allowedHosts: config.allowedHosts,
    maxBodyBytes: config.maxBodyBytes,
    logger,
    metrics: webhooks ? [webhooks] : [],
  });
  let app: typeof unbound;
  try {
    // Taken since the check above (another server started meanwhile): the engine must stop cleanly.
    app = listenOrExplain(config.host, config.port, () =>
      unbound.listen({ hostname: config.host, port: config.port }),
    );
  } catch (error) {
    await manager.shutdown();
    await pgStore?.close();
    throw error;
  }
  const url = listenUrl(config.host, app.server?.port ?? config.port);
  logger.info("kiln serving", {
    url,
    node: manager.node.id,
    // The timings in force; on SQLite there is one node and they do not apply.
    ...(pgStore ? { cluster: resolveClusterTuning(config.cluster) } : {}),
    db: location.dialect === "sqlite" ? resolve(location.path) : shownLocation(config.db),
    tasks: manager.registry.all().map((task) => task.name),
    encryption: config.encryptionKey ? `aes-256-gcm, key ${keyId(config.encryptionKey)}` : "off",
    // As the database connection reports it, not as configured.
    durability: pgStore
      ? await postgresDurability(pgStore)
      : `${config.durability} (synchronous=${manager.durabilitySettings()?.synchronous ?? "?"})`,
    ...(config.retainMs ? { retainMs: config.retainMs } : {}),
    // Labels only: a token never reaches the log.
    auth: config.token
      ? [ADMIN_LABEL, ...config.readTokens.map((_, index) => readTokenLabel(index))]
      : "none",
    cors: config.corsOrigins.length > 0 ? config.corsOrigins : "off",
    // Origins only: a webhook's path or query may hold a secret.
    ...(webhooks ? { webhooks: webhooks.counts().map((hook) => `${hook.webhook}: ${hook.origin}`) } : {}),
    ...(logFile ? { logFile: resolve(logFile.path) } : {}),
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
  const stopWatching = pgStore
    ? watchOwnerLock(pgStore, logger, () => {
        // A command holds the database alone: stop as a crash would, rather than write beside it.
        stdout.flush();
        logFile?.flush();
        process.exit(1);
      })
    : undefined;
  exitOnSignals({
    logger,
    deadlineMs: SHUTDOWN_DEADLINE_MS,
    details: { httpDrainMs: HTTP_DRAIN_MS, graceMs: SHUTDOWN_GRACE_MS },
    stop: async () => {
      const server = app.server;
      // Stop listening first, so no client reconnects while the open streams are ended.
      const drained = server?.stop() ?? Promise.resolve();
      closing.abort();
      if (!(await settlesWithin(drained, HTTP_DRAIN_MS))) {
        logger.warn("requests still open at shutdown; closing their connections", {
          afterMs: HTTP_DRAIN_MS,
        });
        await server?.stop(true);
      }
      stopWatching?.();
      await manager.shutdown();
      await pgStore?.close();
      // The transitions of the shutdown itself are queued too: give them a moment to go out.
      const undelivered = (await webhooks?.close(WEBHOOK_SHUTDOWN_GRACE_MS)) ?? 0;
      if (undelivered > 0) logger.warn("webhook events left undelivered at shutdown", { undelivered });
    },
  });
}
