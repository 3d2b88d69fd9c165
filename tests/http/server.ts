import { createKilnApp, type KilnHttpOptions } from "../../src/http/index.ts";
import type { TaskManagerOptions } from "../../src/index.ts";
import { startManager, type TestManager, tempDir } from "../helpers.ts";

export interface TestServer extends TestManager {
  app: ReturnType<typeof createKilnApp>;
  base: string;
  /** fetch against the server, with a JSON body when `json` is given. */
  call: (path: string, init?: RequestInit & { json?: unknown }) => Promise<Response>;
  /** Stops the HTTP server, then the manager. */
  stop: () => Promise<void>;
}

/**
 * A started manager (fixture tasks loaded) behind a real HTTP server on a free port; its
 * database lives in `dir` (default: a new temp dir, removed by `stop`).
 */
export async function startServer(
  managerOptions: Partial<TaskManagerOptions> = {},
  httpOptions: KilnHttpOptions = {},
  dir: { path: string; remove: () => void } = tempDir(),
): Promise<TestServer> {
  const env = await startManager(
    {
      concurrency: 2,
      stopGraceMs: 2_000,
      shutdownGraceMs: 500,
      ...managerOptions,
    },
    dir,
  );
  const app = createKilnApp(env.manager, httpOptions).listen({ hostname: "127.0.0.1", port: 0 });
  const port = app.server?.port;
  if (!port) throw new Error("the test server did not start");
  const base = `http://127.0.0.1:${port}`;
  const call = (path: string, init: RequestInit & { json?: unknown } = {}) => {
    const { json, ...rest } = init;
    if (json === undefined) return fetch(base + path, rest);
    const headers = new Headers(rest.headers);
    headers.set("content-type", "application/json");
    return fetch(base + path, { method: "POST", ...rest, headers, body: JSON.stringify(json) });
  };
  return {
    ...env,
    app,
    base,
    call,
    stop: async () => {
      await app.stop(true);
      await env.close();
    },
  };
}

export interface ApiError {
  error: { code: string; message: string; details?: unknown };
}

/** The response's JSON body, typed by the caller. */
export async function body<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}
