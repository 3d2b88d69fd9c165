import { Database } from "bun:sqlite";
import type { ChildMessage, ParentMessage } from "./protocol.ts";

type Ready = Extract<ChildMessage, { type: "ready" }>;

export interface Memory {
  rss: number;
  heapUsed: number;
}

export interface FuzzServer {
  base: string;
  dbPath: string;
  ids: string[];
  routes: Ready["routes"];
  /** Server faults the server logged (each 500 is one). */
  serverErrors: string[];
  /** The server's memory after a full garbage collection. */
  memory(): Promise<Memory>;
  /** Resolves once no task runs or is due soon, so the database does not change by itself. */
  quiet(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts tests/fuzz/server-child.ts on a database in `dir` and waits for it to listen. */
export async function startFuzzServer(dir: string): Promise<FuzzServer> {
  const waiting = new Map<ChildMessage["type"], (message: ChildMessage) => void>();
  const serverErrors: string[] = [];
  const child = Bun.spawn([process.execPath, new URL("./server-child.ts", import.meta.url).pathname, dir], {
    stdout: "inherit",
    stderr: "inherit",
    ipc(message: ChildMessage) {
      if (message.type === "log") {
        if (message.level === "error") serverErrors.push(`${message.message} ${message.fields}`);
        return;
      }
      const resolve = waiting.get(message.type);
      waiting.delete(message.type);
      resolve?.(message);
    },
  });
  const next = <T extends ChildMessage["type"]>(type: T, timeoutMs = 30_000) =>
    new Promise<Extract<ChildMessage, { type: T }>>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the fuzzed server sent no "${type}" within ${timeoutMs} ms`)),
        timeoutMs,
      );
      waiting.set(type, (message) => {
        clearTimeout(timer);
        resolve(message as Extract<ChildMessage, { type: T }>);
      });
    });
  const ask = <T extends ChildMessage["type"]>(message: ParentMessage, type: T) => {
    const answer = next(type);
    child.send(message);
    return answer;
  };
  const ready = await Promise.race([
    next("ready"),
    child.exited.then((code) => {
      throw new Error(`the fuzzed server exited (${code}) before it listened`);
    }),
  ]);
  return {
    base: `http://127.0.0.1:${ready.port}`,
    dbPath: ready.dbPath,
    ids: ready.ids,
    routes: ready.routes,
    serverErrors,
    async memory() {
      const { rss, heapUsed } = await ask({ type: "memory" }, "memory");
      return { rss, heapUsed };
    },
    async quiet() {
      const { quiet } = await ask({ type: "quiet" }, "quiet");
      if (!quiet) throw new Error("the fuzzed server's tasks did not settle within 10 s");
    },
    async stop() {
      child.send({ type: "stop" });
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await child.exited;
      clearTimeout(timer);
    },
  };
}

/**
 * What changes when anything is committed to the database: SQLite's data_version (which moves
 * on every commit by another connection, an UPDATE too), and the rows and last id of each table.
 */
export class DatabaseWatch {
  readonly #db: Database;

  constructor(path: string) {
    this.#db = new Database(path, { readonly: true });
  }

  snapshot(): string {
    const version = this.#db.query<{ data_version: number }, []>("PRAGMA data_version").get()?.data_version;
    const tables = ["tasks", "task_events", "task_logs"].map((table) =>
      this.#db.query(`SELECT count(*) AS rows, max(rowid) AS last FROM ${table}`).get(),
    );
    return JSON.stringify({ version, tables });
  }

  close(): void {
    this.#db.close();
  }
}

export interface FuzzRequest {
  method: string;
  /** Path and query, already encoded as they go on the wire. */
  target: string;
  headers: Record<string, string>;
  body?: Uint8Array | string | ReadableStream<Uint8Array> | undefined;
}

export interface FuzzResponse {
  status: number;
  contentType: string;
  text: string;
}

/** Sends one request; a streamed answer (the event stream) is judged by its head and then cut. */
export async function send(base: string, request: FuzzRequest): Promise<FuzzResponse> {
  const response = await fetch(base + request.target, {
    method: request.method,
    headers: request.headers,
    body: request.body,
    signal: AbortSignal.timeout(10_000),
    redirect: "manual",
    // A streamed body needs this in fetch.
    ...(request.body instanceof ReadableStream ? { duplex: "half" } : {}),
  } as RequestInit);
  const contentType = response.headers.get("content-type") ?? "";
  if (contentType.startsWith("text/event-stream")) {
    await response.body?.cancel();
    return { status: response.status, contentType, text: "" };
  }
  return { status: response.status, contentType, text: await response.text() };
}

/**
 * What is wrong with a 4xx answer, or undefined when it has the API's one error shape exactly:
 * a JSON object with only `error`, holding a snake_case `code`, a non-empty `message` and,
 * optionally, `details`, and nothing else.
 */
export function errorShapeProblem(response: FuzzResponse, method: string): string | undefined {
  if (method === "HEAD") return undefined; // a HEAD answer has no body to judge
  if (!response.contentType.startsWith("application/json"))
    return `content-type is "${response.contentType}", not application/json`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(response.text);
  } catch {
    return `body is not JSON: ${response.text.slice(0, 200)}`;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return "body is not an object";
  const keys = Object.keys(parsed);
  if (keys.length !== 1 || keys[0] !== "error") return `body has keys ${JSON.stringify(keys)}, not ["error"]`;
  const error = (parsed as { error: unknown }).error;
  if (typeof error !== "object" || error === null || Array.isArray(error)) return "error is not an object";
  const extra = Object.keys(error).filter((key) => !["code", "message", "details"].includes(key));
  if (extra.length > 0) return `error has unexpected keys ${JSON.stringify(extra)}`;
  const { code, message } = error as { code: unknown; message: unknown };
  if (typeof code !== "string" || !/^[a-z][a-z0-9_]*$/.test(code))
    return `error.code ${JSON.stringify(code)} is not a snake_case string`;
  if (typeof message !== "string" || message.trim() === "") return "error.message is not a non-empty string";
  return undefined;
}
