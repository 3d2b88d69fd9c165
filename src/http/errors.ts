import { type Context, ValidationError } from "elysia";
import {
  KilnError,
  type Logger,
  StorageUnavailableError,
  storageFaultOf,
  UndecryptableValueError,
} from "../engine/index.ts";
import type { CorsPolicy } from "./cors.ts";
import { requestPath } from "./request-path.ts";
import { addSecurityHeaders } from "./security-headers.ts";
import { describeValidation } from "./validation.ts";

/** The one shape of every error the API answers with. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export interface ApiFailure {
  status: number;
  body: ErrorBody;
}

/** An error raised by the HTTP layer itself; it shares the engine's code + status shape. */
export function httpError(code: string, status: number, message: string, details?: unknown): KilnError {
  return new KilnError(code, status, message, details);
}

export const payloadTooLarge = (limit: number): KilnError =>
  httpError("payload_too_large", 413, `the request body is larger than ${limit} bytes`, { limit });

function failure(status: number, code: string, message: string, details?: unknown): ApiFailure {
  return { status, body: { error: details === undefined ? { code, message } : { code, message, details } } };
}

function internal(error: unknown, where: string, logger: Logger): ApiFailure {
  logger.error("unexpected error while handling a request", {
    route: where,
    error: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
  return failure(500, "internal", "internal error");
}

function fromKilnError(error: KilnError, where: string, logger: Logger): ApiFailure {
  if (error.httpStatus >= 500 && error.code === "internal") return internal(error, where, logger);
  return failure(error.httpStatus, error.code, error.message, error.details);
}

/**
 * Turns anything thrown while handling a request into the API's error shape. Bad input maps
 * to a 4xx; only a fault of kiln itself is a 500, and it is logged, never shown.
 */
export function toApiFailure(
  code: string | number,
  error: unknown,
  request: { method: string; url: string },
  logger: Logger,
): ApiFailure {
  const where = `${request.method} ${requestPath(request)}`;
  if (error instanceof KilnError) return fromKilnError(error, where, logger);
  if (error instanceof UndecryptableValueError) {
    // The server's keys do not open this task's stored values: its operator must act, so the
    // message (which names the key id, never a key) is shown rather than hidden as "internal".
    logger.error("a task's stored values cannot be decrypted", { route: where, error: error.message });
    return failure(500, error.code, error.message);
  }
  // A SQLite error that did not come through the engine's guarded store (a host app's own
  // query, say): a full disk or a read-only file is still the storage's fault, not kiln's.
  const fault = storageFaultOf(error);
  if (fault) return fromKilnError(new StorageUnavailableError(fault, error), where, logger);
  if (error instanceof ValidationError) {
    // A handler's answer that breaks its own schema is our bug, not the client's.
    if (error.type === "response") return internal(error, where, logger);
    const { message, details } = describeValidation(error);
    return failure(422, "validation", message, details);
  }
  switch (code) {
    case "PARSE": {
      const cause = error instanceof Error ? error.cause : undefined;
      if (cause instanceof KilnError) return fromKilnError(cause, where, logger);
      return failure(400, "bad_request", "the request body is not valid JSON");
    }
    case "NOT_FOUND":
      return failure(404, "not_found", `no route for ${where}`);
    case "INVALID_COOKIE_SIGNATURE":
    case "INVALID_FILE_TYPE":
      return failure(400, "bad_request", error instanceof Error ? error.message : "bad request");
    default:
      return internal(error, where, logger);
  }
}

interface ErrorContext {
  code: string | number;
  error: unknown;
  set: Context["set"];
  request: Request;
}

/** Seconds a client is told to wait before retrying a 503 (storage fault, not accepting). */
const RETRY_AFTER_SECONDS = "5";

/**
 * An Elysia `onError` handler that answers with `toApiFailure`; server faults go to `logger`.
 * Errors raised before kiln's routes are matched (unknown route, unparsable body) get the
 * security and CORS headers here.
 */
export function errorHandler(logger: Logger, cors?: CorsPolicy) {
  return ({ code, error, set, request }: ErrorContext): ErrorBody => {
    const { status, body } = toApiFailure(code, error, request, logger);
    set.status = status;
    if (status === 503) set.headers["retry-after"] = RETRY_AFTER_SECONDS;
    addSecurityHeaders(set);
    cors?.decorate({ request, set });
    return body;
  };
}
