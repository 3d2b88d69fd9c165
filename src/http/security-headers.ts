import type { Context } from "elysia";

/**
 * Headers every kiln response carries: no MIME sniffing, no referrer leaking task ids to other
 * sites, no framing (clickjacking), and no window or resource sharing with other origins.
 * `Cache-Control: no-store` keeps task data out of shared and browser caches; routes that
 * set their own (the dashboard's versioned assets, the event stream) keep theirs.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "cache-control": "no-store",
};

/** Adds SECURITY_HEADERS to the response being built; a Response's own headers win. */
export function addSecurityHeaders(set: Context["set"]): void {
  Object.assign(set.headers, SECURITY_HEADERS);
}
