import { Elysia } from "elysia";
import type { TaskManager } from "../engine/index.ts";
import { DEFAULT_MAX_BODY_BYTES, jsonBodyParser } from "./body.ts";
import { handleError } from "./errors.ts";
import { controlRoutes } from "./routes/control.ts";
import { healthRoutes } from "./routes/health.ts";
import { historyRoutes } from "./routes/history.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { streamRoutes } from "./routes/stream.ts";
import { taskTypeRoutes } from "./routes/task-types.ts";
import { taskRoutes } from "./routes/tasks.ts";

export interface KilnHttpOptions {
  /** Largest accepted request body in bytes; larger is a 413 (default 1 MiB). */
  maxBodyBytes?: number;
  /** Events queued for one slow `/events` client before it is cut off (default 1,000). */
  maxQueuedEvents?: number;
  /** How often `/events` sends a heartbeat comment (default 15 s). */
  heartbeatMs?: number;
}

type ResolvedOptions = Required<KilnHttpOptions>;

function positiveInteger(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`${what} must be an integer ≥ 1`);
  return value;
}

function resolveOptions(options: KilnHttpOptions): ResolvedOptions {
  return {
    maxBodyBytes: positiveInteger(options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES, "maxBodyBytes"),
    maxQueuedEvents: positiveInteger(options.maxQueuedEvents, 1_000, "maxQueuedEvents"),
    heartbeatMs: positiveInteger(options.heartbeatMs, 15_000, "heartbeatMs"),
  };
}

/**
 * kiln's REST API as an Elysia plugin: `app.use(kilnRoutes(manager))`. Its error mapping and
 * body parsing are scoped to the routes it defines and the app that mounts it, so they
 * leave the rest of a host app's routes alone.
 */
export function kilnRoutes(manager: TaskManager, options: KilnHttpOptions = {}) {
  const config = resolveOptions(options);
  const hooks = new Elysia()
    .onError({ as: "scoped" }, handleError)
    .onParse({ as: "scoped" }, jsonBodyParser(config.maxBodyBytes));
  return new Elysia()
    .use(hooks)
    .use(healthRoutes(manager))
    .use(taskTypeRoutes(manager))
    .use(taskRoutes(manager))
    .use(controlRoutes(manager))
    .use(historyRoutes(manager))
    .use(streamRoutes(manager, config))
    .use(metricsRoutes(manager));
}

/** A standalone app serving kiln's API, with kiln's error shape for unknown routes too. */
export function createKilnApp(manager: TaskManager, options: KilnHttpOptions = {}) {
  return new Elysia().onError(handleError).use(kilnRoutes(manager, options));
}
