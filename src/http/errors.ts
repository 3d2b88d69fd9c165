import { type Context, ValidationError } from "elysia";
import { KilnError } from "../engine/index.ts";
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

function internal(error: unknown, where: string): ApiFailure {
  console.error(`kiln http: unexpected error in ${where}`, error);
  return failure(500, "internal", "internal error");
}

function fromKilnError(error: KilnError, where: string): ApiFailure {
  if (error.httpStatus >= 500 && error.code === "internal") return internal(error, where);
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
): ApiFailure {
  const where = `${request.method} ${new URL(request.url).pathname}`;
  if (error instanceof KilnError) return fromKilnError(error, where);
  if (error instanceof ValidationError) {
    // A handler's answer that breaks its own schema is our bug, not the client's.
    if (error.type === "response") return internal(error, where);
    const { message, details } = describeValidation(error);
    return failure(422, "validation", message, details);
  }
  switch (code) {
    case "PARSE": {
      const cause = error instanceof Error ? error.cause : undefined;
      if (cause instanceof KilnError) return fromKilnError(cause, where);
      return failure(400, "bad_request", "the request body is not valid JSON");
    }
    case "NOT_FOUND":
      return failure(404, "not_found", `no route for ${where}`);
    case "INVALID_COOKIE_SIGNATURE":
    case "INVALID_FILE_TYPE":
      return failure(400, "bad_request", error instanceof Error ? error.message : "bad request");
    default:
      return internal(error, where);
  }
}

/** An Elysia `onError` handler that answers with `toApiFailure`. */
export function handleError({
  code,
  error,
  set,
  request,
}: {
  code: string | number;
  error: unknown;
  set: Context["set"];
  request: Request;
}): ErrorBody {
  const { status, body } = toApiFailure(code, error, request);
  set.status = status;
  return body;
}
