import type { TObject } from "@sinclair/typebox";
import { httpError, payloadTooLarge } from "./errors.ts";
import { MAX_JSON_DEPTH, nestsDeeperThan } from "./json-depth.ts";
import { requireJsonBody } from "./request-guard.ts";

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

const decoder = new TextDecoder("utf-8", { fatal: true });

/** Reads at most `limit` bytes of a request body; more is a 413, whatever Content-Length said. */
async function readLimited(body: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw payloadTooLarge(limit);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * An Elysia parse hook: every request body is JSON sent as `application/json` (415 otherwise),
 * at most `limit` bytes and `MAX_JSON_DEPTH` levels deep. An empty body parses to nothing, so
 * optional bodies may be left out.
 */
export function jsonBodyParser(limit: number) {
  return async ({ request }: { request: Request }): Promise<unknown> => {
    requireJsonBody(request);
    const declared = request.headers.get("content-length");
    if (declared !== null && Number(declared) > limit) throw payloadTooLarge(limit);
    if (!request.body || declared === "0") return undefined;
    // A body of a declared length (and no other framing) is that long: the server reads that
    // many bytes and no more, so it is taken whole, without the stream reader's turn per chunk
    // (a third of a small POST's time). A chunked body is read and counted as it comes.
    const bytes =
      declared !== null && !request.headers.has("transfer-encoding")
        ? await request.bytes()
        : await readLimited(request.body, limit);
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      throw httpError("bad_request", 400, "the request body is not valid UTF-8");
    }
    if (text.trim() === "") return undefined;
    if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
      throw httpError(
        "bad_request",
        400,
        `the request body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`,
        { maxDepth: MAX_JSON_DEPTH },
      );
    }
    try {
      return JSON.parse(text);
    } catch (error) {
      const why = error instanceof Error ? `: ${error.message}` : "";
      throw httpError("bad_request", 400, `the request body is not valid JSON${why}`);
    }
  };
}

/**
 * A transform hook that refuses a body that is not a JSON object, or that has fields the
 * schema does not name. It runs before Elysia's normalisation, which would otherwise turn
 * `null` or an array into `{}` and drop unknown fields silently; a misspelt option should be
 * an error.
 */
export function strictObjectBody(schema: TObject) {
  const known = new Set(Object.keys(schema.properties));
  return ({ body }: { body: unknown }): void => {
    if (body === undefined) return;
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw httpError("validation", 422, "invalid body: the body must be a JSON object", {
        in: "body",
        issues: [{ path: "", message: "must be a JSON object" }],
      });
    }
    const unknown = Object.keys(body).filter((key) => !known.has(key));
    if (unknown.length === 0) return;
    const issues = unknown.map((key) => ({ path: key, message: `"${key}" is not an allowed field` }));
    throw httpError(
      "validation",
      422,
      `invalid body: ${issues.map((issue) => issue.message).join("; ")} (allowed: ${[...known].join(", ")})`,
      { in: "body", issues },
    );
  };
}
