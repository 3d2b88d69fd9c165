import type { HostAllowList } from "./allowed-hosts.ts";
import type { CorsPolicy } from "./cors.ts";
import { httpError } from "./errors.ts";

/** Methods that change nothing; the cross-site check leaves them alone (links, reloads). */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** A header value, cut short for a message. */
function shown(value: string): string {
  return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value);
}

/** True when `origin` names the server the request was sent to (its Host header). */
function isOwnOrigin(origin: string, host: string | null): boolean {
  if (host === null) return false;
  try {
    return new URL(origin).host === host.trim().toLowerCase();
  } catch {
    return false; // "null" (sandboxed frames, file: pages) or garbage
  }
}

/**
 * What kiln's routes check before any other work, so that a web page cannot drive a kiln it
 * can reach through the visitor's browser:
 *
 * - the Host header must be on the allow-list (DNS rebinding: 421);
 * - a request that changes something (any method but GET, HEAD, OPTIONS) must not come from a
 *   page on another site: `Sec-Fetch-Site: cross-site`, or an `Origin` that is neither this
 *   server's own nor on the CORS allow-list, is a 403. Clients other than browsers send
 *   neither and pass.
 *
 * The body's Content-Type is checked by the body parser (`requireJsonBody`), which runs first.
 */
export class RequestGuard {
  constructor(
    private readonly hosts: HostAllowList,
    private readonly cors: CorsPolicy,
  ) {}

  readonly check = ({ request }: { request: Request }): void => {
    const host = request.headers.get("host");
    if (!this.hosts.allows(host)) {
      throw httpError(
        "misdirected_request",
        421,
        `this kiln server does not answer to the host ${host === null || host === "" ? "(none given)" : shown(host)}; ` +
          `it answers to ${this.hosts.describe()} (add names with --allowed-hosts)`,
      );
    }
    if (SAFE_METHODS.has(request.method)) return;
    const origin = request.headers.get("origin");
    const site = request.headers.get("sec-fetch-site");
    if (origin !== null && this.cors.allowsOrigin(origin)) return;
    if (origin !== null && !isOwnOrigin(origin, host)) {
      throw crossSite(`a page on ${shown(origin)} may not ${request.method} to this kiln server`);
    }
    if (site !== null && site.trim().toLowerCase() === "cross-site") {
      throw crossSite(`a page on another site may not ${request.method} to this kiln server`);
    }
  };
}

function crossSite(what: string) {
  return httpError(
    "cross_site_request",
    403,
    `cross-site request refused: ${what}; list the page's origin with --cors-origin to allow it`,
  );
}

/** The media type of a Content-Type header, without parameters, in lower case. */
function mediaType(contentType: string): string {
  const semicolon = contentType.indexOf(";");
  return (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

/**
 * A request body must be sent as `application/json` (parameters such as `charset=utf-8` aside):
 * a browser sends `text/plain`, form and multipart bodies to any site without asking it first,
 * JSON only after a CORS preflight. A request without a body needs no Content-Type, so
 * `POST /tasks/:id/stop` with nothing in it still works. 415 otherwise.
 */
export function requireJsonBody(request: Request): void {
  const contentType = request.headers.get("content-type");
  if (contentType !== null && mediaType(contentType) === "application/json") return;
  if (request.body === null) return;
  throw httpError(
    "unsupported_media_type",
    415,
    contentType === null
      ? "the request has a body but no Content-Type: send JSON with Content-Type: application/json"
      : `the request body must be JSON sent with Content-Type: application/json, not ${shown(contentType)}`,
    { contentType },
  );
}
