import { Elysia } from "elysia";
import { type Logger, stderrLogger, type TaskManager } from "../engine/index.ts";
import { HostAllowList } from "./allowed-hosts.ts";
import { TokenAuth } from "./auth.ts";
import type { KilnAuthOptions } from "./auth-options.ts";
import { DEFAULT_MAX_BODY_BYTES, jsonBodyParser } from "./body.ts";
import { CorsPolicy } from "./cors.ts";
import { openApiRoutes } from "./docs/openapi.ts";
import { swaggerShellRoutes } from "./docs/routes.ts";
import { errorHandler } from "./errors.ts";
import type { MetricSource } from "./metrics.ts";
import { RequestGuard } from "./request-guard.ts";
import { bulkRoutes } from "./routes/bulk.ts";
import { controlRoutes } from "./routes/control.ts";
import { dashboardRoutes } from "./routes/dashboard.ts";
import { healthRoutes } from "./routes/health.ts";
import { historyRoutes } from "./routes/history.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { nodeRoutes } from "./routes/nodes.ts";
import { scheduleRoutes } from "./routes/schedules.ts";
import { statsRoutes } from "./routes/stats.ts";
import { streamRoutes } from "./routes/stream.ts";
import { taskTypeRoutes } from "./routes/task-types.ts";
import { taskRoutes } from "./routes/tasks.ts";
import { addSecurityHeaders, SECURITY_HEADERS } from "./security-headers.ts";
import { serverOptions } from "./server-options.ts";

export interface KilnHttpOptions extends KilnAuthOptions {
  /** Largest accepted request body in bytes; larger is a 413 (default 1 MiB). */
  maxBodyBytes?: number;
  /** Events queued for one slow `/events` client before it is cut off (default 1,000). */
  maxQueuedEvents?: number;
  /** How often `/events` sends a heartbeat comment (default 15 s). */
  heartbeatMs?: number;
  /** Where server faults (answered as 500) are reported (default: stderr). */
  logger?: Logger;
  /**
   * Exact origins (`https://host[:port]`) whose browser pages may call the API. Without any,
   * kiln sends no CORS headers and answers no preflight.
   */
  corsOrigins?: readonly string[];
  /**
   * Abort it when the server shuts down: every open `/events` stream then ends with a final
   * `shutdown` event, so stopping the HTTP server does not wait for clients that read forever.
   */
  shutdownSignal?: AbortSignal;
  /** More series for `/metrics`, such as a WebhookDispatcher's delivery counts. */
  metrics?: readonly MetricSource[];
  /**
   * Host names (`name` for any port, `name:port`, `[v6]`) requests may address kiln by; any
   * other Host is a 421. Undefined (the default) or `"*"` allows any host. `kiln serve` bound
   * to loopback allows localhost, 127.0.0.1 and [::1] only, which defeats DNS rebinding.
   */
  allowedHosts?: readonly string[];
}

interface ResolvedOptions {
  maxBodyBytes: number;
  maxQueuedEvents: number;
  heartbeatMs: number;
  shutdownSignal: AbortSignal | undefined;
  auth: TokenAuth;
  cors: CorsPolicy;
  guard: RequestGuard;
  logger: Logger;
}

function positiveInteger(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`${what} must be an integer ≥ 1`);
  return value;
}

function resolveOptions(options: KilnHttpOptions): ResolvedOptions {
  const cors = new CorsPolicy(options.corsOrigins);
  return {
    maxBodyBytes: positiveInteger(options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES, "maxBodyBytes"),
    maxQueuedEvents: positiveInteger(options.maxQueuedEvents, 1_000, "maxQueuedEvents"),
    heartbeatMs: positiveInteger(options.heartbeatMs, 15_000, "heartbeatMs"),
    shutdownSignal: options.shutdownSignal,
    auth: new TokenAuth(options, options.logger ?? stderrLogger),
    cors,
    guard: new RequestGuard(new HostAllowList(options.allowedHosts), cors),
    logger: options.logger ?? stderrLogger,
  };
}

/**
 * kiln's REST API as an Elysia plugin: `app.use(kilnRoutes(manager))`. Its error mapping and
 * body parsing are scoped to the routes it defines and the app that mounts it; the token
 * check, the security headers and CORS cover only kiln's own routes, so a host app's routes
 * are left alone.
 */
export function kilnRoutes(manager: TaskManager, options: KilnHttpOptions = {}) {
  const config = resolveOptions(options);
  const { auth, cors, guard } = config;
  const hooks = new Elysia()
    .onError({ as: "scoped" }, errorHandler(config.logger, cors))
    .onParse({ as: "scoped" }, jsonBodyParser(config.maxBodyBytes));
  // Without tokens the guard has nothing to check, and a hook costs every request its turn.
  const guarded = (auth.enabled ? new Elysia().onBeforeHandle(auth.guard) : new Elysia())
    .use(openApiRoutes(manager, auth.enabled))
    .use(taskTypeRoutes(manager, auth))
    .use(taskRoutes(manager, auth, config.logger))
    .use(controlRoutes(manager, auth))
    .use(bulkRoutes(manager, auth, config.logger))
    .use(historyRoutes(manager))
    .use(scheduleRoutes(manager))
    .use(streamRoutes(manager, config))
    .use(metricsRoutes(manager, options.metrics))
    .use(statsRoutes(manager))
    .use(nodeRoutes(manager));
  const routes = new Elysia()
    .use(healthRoutes(manager))
    .use(swaggerShellRoutes())
    .use(dashboardRoutes())
    .use(guarded);
  return (
    new Elysia()
      .use(hooks)
      // Transform runs before validation and the token check, so their errors carry these too,
      // and a request from a host or site kiln does not serve goes no further.
      .onTransform(({ request, set }) => {
        addSecurityHeaders(set);
        cors.decorate({ request, set });
        guard.check({ request });
      })
      .use(cors.preflightRoutes(routes.routes.map((route) => route.path)))
      .use(routes)
  );
}

/**
 * A standalone app serving kiln's API, with kiln's error shape for unknown routes too. Its `/`
 * leads to the dashboard (kilnRoutes leaves `/` to the host app).
 */
export function createKilnApp(manager: TaskManager, options: KilnHttpOptions = {}) {
  const logger = options.logger ?? stderrLogger;
  return new Elysia({ serve: serverOptions(logger) })
    .onError(errorHandler(logger, new CorsPolicy(options.corsOrigins)))
    .get(
      "/",
      () => new Response(null, { status: 302, headers: { location: "dashboard", ...SECURITY_HEADERS } }),
      {
        detail: { hide: true },
      },
    )
    .use(kilnRoutes(manager, options));
}
