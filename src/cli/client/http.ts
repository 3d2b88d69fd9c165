import type { ClientConfig } from "./args.ts";
import { ApiError, ConnectionError } from "./errors.ts";

export type Query = Record<string, string | number | undefined>;

export interface ApiResponse<T> {
  status: number;
  body: T;
}

interface RequestOptions {
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
}

function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // Bun puts the useful part (ConnectionRefused, ECONNRESET, ...) in `code`, not the message.
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && !error.message.includes(code)
    ? `${error.message} (${code})`
    : error.message;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === "AbortError";
}

/** The server's `{ error: { code, message } }`, or a stand-in naming the HTTP status. */
function apiError(status: number, statusText: string, text: string): ApiError {
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    const { code, message } = parsed.error ?? {};
    if (typeof code === "string" && typeof message === "string") return new ApiError(status, code, message);
  } catch {
    // Not JSON: a proxy's error page or something that is not kiln; described below.
  }
  const excerpt = text.trim().slice(0, 200);
  const what = `the server answered ${status}${statusText ? ` ${statusText}` : ""}`;
  return new ApiError(status, `http_${status}`, excerpt ? `${what}: ${excerpt}` : what);
}

/** A thin fetch wrapper for kiln's REST API: JSON in and out, errors as ApiError / ConnectionError. */
export class KilnClient {
  readonly base: string;
  readonly #root: URL;
  readonly #token: string | undefined;

  constructor(config: ClientConfig) {
    this.base = config.url;
    // A trailing slash makes relative paths land below a prefix such as https://host/kiln/.
    this.#root = new URL(config.url.endsWith("/") ? config.url : `${config.url}/`);
    this.#token = config.token;
  }

  url(path: string, query: Query = {}): URL {
    const url = new URL(path.replace(/^\//, ""), this.#root);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url;
  }

  /**
   * One request; resolves for 2xx only. `T` is what the route's response schema promises
   * (src/http/schemas.ts); the body is not re-validated here. A 204 resolves with no body.
   */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const headers = this.#headers("application/json");
    if (options.body !== undefined) headers.set("content-type", "application/json");
    const response = await this.#fetch(this.url(path, options.query), {
      method,
      headers,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await response.text();
    if (!response.ok) throw apiError(response.status, response.statusText, text);
    // 204 No Content (a delete): nothing to parse.
    if (response.status === 204) return { status: 204, body: undefined as T };
    try {
      return { status: response.status, body: JSON.parse(text) as T };
    } catch {
      throw new ApiError(
        response.status,
        "bad_response",
        `the server at ${this.base} answered ${method} ${path} with something that is not JSON; is it a kiln server?`,
      );
    }
  }

  /** Opens a Server-Sent Events stream; resolves once the server has answered with its headers. */
  async stream(path: string, query: Query, signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const response = await this.#fetch(this.url(path, query), {
      headers: this.#headers("text/event-stream"),
      signal,
    });
    if (!response.ok) throw apiError(response.status, response.statusText, await response.text());
    if (!response.body) throw new ApiError(response.status, "bad_response", "the event stream has no body");
    return response.body;
  }

  #headers(accept: string): Headers {
    const headers = new Headers({ accept });
    if (this.#token !== undefined) headers.set("authorization", `Bearer ${this.#token}`);
    return headers;
  }

  async #fetch(url: URL, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, init);
    } catch (error) {
      if (isAbort(error)) throw error;
      throw new ConnectionError(`cannot reach the kiln server at ${this.base}: ${describeFailure(error)}`);
    }
  }
}
