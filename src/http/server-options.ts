import type { Logger } from "../engine/index.ts";
import type { ErrorBody } from "./errors.ts";
import { SECURITY_HEADERS } from "./security-headers.ts";

const INTERNAL: ErrorBody = { error: { code: "internal", message: "internal error" } };

/**
 * Bun.serve options of kiln's standalone server (Elysia's `serve` config, which every `listen`
 * merges in).
 *
 * - `development: false`: in development mode Bun answers an error that escapes the app with a
 *   page of stack frames, source lines and the working directory, to anyone.
 * - `error`: whatever escapes Elysia's own error handling is still answered in the API's error
 *   shape, never with Bun's default page.
 * - `reusePort: false`: with SO_REUSEPORT (Elysia's default) a second server on the same port
 *   starts as well and takes a share of the requests; without it, the second one fails to bind.
 */
export function serverOptions(logger: Logger) {
  return {
    development: false,
    reusePort: false,
    error(error: Error): Response {
      try {
        logger.error("an error escaped the request handlers", { error: error.stack ?? error.message });
      } catch {
        // The logger failing must not turn this answer into Bun's own.
      }
      return Response.json(INTERNAL, { status: 500, headers: SECURITY_HEADERS });
    },
  };
}
