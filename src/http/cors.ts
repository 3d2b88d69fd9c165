import { Elysia } from "elysia";
import { checkCorsOrigin } from "./cors-origin.ts";

/** What a browser on an allowed origin may send: kiln's methods and the two headers it reads. */
const ALLOW_METHODS = "GET, HEAD, POST, DELETE";
const ALLOW_HEADERS = "Authorization, Content-Type";
/** How long a browser may reuse a preflight answer. */
const MAX_AGE_SECONDS = "600";

/**
 * Cross-origin access for an allow-list of exact origins; without one, kiln sends no
 * Access-Control-* header at all and answers no preflight. An allowed origin is echoed in
 * Access-Control-Allow-Origin (never `*`, never with credentials: kiln's token travels in a
 * header, not a cookie).
 *
 * Not @elysiajs/cors: its 1.4 plugin adds its allow headers to every response and its allowed
 * methods for any origin, and registers `OPTIONS /*`, which would answer a host app's preflights.
 */
export class CorsPolicy {
  readonly #origins: ReadonlySet<string>;

  constructor(origins: readonly string[] = []) {
    this.#origins = new Set(origins.map(checkCorsOrigin));
  }

  get enabled(): boolean {
    return this.#origins.size > 0;
  }

  /** True when `origin` is on the allow-list. */
  allowsOrigin(origin: string): boolean {
    return this.#origins.has(origin);
  }

  /** The allowed origin a request comes from, if any. */
  #allowed(request: Request): string | undefined {
    const origin = request.headers.get("origin");
    return origin !== null && this.#origins.has(origin) ? origin : undefined;
  }

  /** Adds the CORS headers an actual (non-preflight) response needs. */
  readonly decorate = ({ request, set }: { request: Request; set: { headers: Record<string, unknown> } }) => {
    if (!this.enabled) return;
    // Answers differ by Origin, so caches must key on it, allowed or not.
    set.headers.vary = "Origin";
    const origin = this.#allowed(request);
    if (origin !== undefined) set.headers["access-control-allow-origin"] = origin;
  };

  #preflight = ({ request }: { request: Request }): Response => {
    const origin = this.#allowed(request);
    const headers: Record<string, string> = { vary: "Origin" };
    if (origin !== undefined && request.headers.has("access-control-request-method")) {
      headers["access-control-allow-origin"] = origin;
      headers["access-control-allow-methods"] = ALLOW_METHODS;
      headers["access-control-allow-headers"] = ALLOW_HEADERS;
      headers["access-control-max-age"] = MAX_AGE_SECONDS;
    }
    return new Response(null, { status: 204, headers });
  };

  /**
   * OPTIONS routes for exactly the given paths (kiln's own), so preflights to a host app's
   * routes stay the host's business. None when CORS is off.
   */
  preflightRoutes(paths: Iterable<string>) {
    const app = new Elysia();
    if (!this.enabled) return app;
    for (const path of new Set(paths)) app.options(path, this.#preflight, { detail: { hide: true } });
    return app;
  }
}
