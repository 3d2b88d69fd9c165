// `kiln serve` from source in a child process, with the value tasks (tests/fixtures/value-tasks.ts)
// and the "steps" task in its tasks folder: a server a task's bad value could kill for real.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KILN_FROM_SOURCE, type ServingKiln, serveKiln } from "../binary/kiln-process.ts";

const FIXTURES = new URL("../fixtures/", import.meta.url).pathname;
const FINAL = ["FINISHED", "FAILED", "STOPPED"];

export interface TaskJson {
  id: string;
  name: string;
  status: string;
  result: unknown;
  error: { name: string; message: string; retryable: boolean } | null;
  progress: { done: number; total: number | null; percent: number | null; message: string | null } | null;
  [key: string]: unknown;
}

export interface ValuesServer extends ServingKiln {
  dbPath: string;
  /** What the server wrote to stderr so far. */
  stderr(): string;
  /** POST /tasks; throws unless it answers 201. */
  create(name: string, params: unknown): Promise<TaskJson>;
  /** GET /tasks/:id until the task has ended. */
  ended(id: string, timeoutMs?: number): Promise<TaskJson>;
  /** Every log line of a task, all pages. */
  logs(id: string): Promise<Array<{ level: string; message: string }>>;
  /** The status of each HTTP view of the task: its page, history, logs, and a list page holding it. */
  views(id: string): Promise<Record<string, number>>;
}

/** Starts the server on `dir/kiln.db` (`dir` must exist); `flags` go to `kiln serve`. */
export async function serveValues(dir: string, flags: string[] = []): Promise<ValuesServer> {
  const tasksDir = join(dir, "tasks");
  mkdirSync(tasksDir, { recursive: true });
  writeFileSync(
    join(tasksDir, "values.ts"),
    `export * from "${FIXTURES}value-tasks.ts";\nexport { StepsTask } from "${FIXTURES}tasks.ts";\n`,
  );
  const dbPath = join(dir, "kiln.db");
  const server = await serveKiln(
    KILN_FROM_SOURCE,
    ["--db", dbPath, "--tasks-dir", tasksDir, "--concurrency", "4", ...flags],
    dir,
  );
  // Drained as it comes: a full pipe would block the server's own writes to stderr.
  let stderr = "";
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of server.proc.stderr) stderr += decoder.decode(chunk, { stream: true });
  })();
  const get = async <T>(path: string): Promise<T> => {
    const response = await fetch(server.url + path);
    if (response.status !== 200) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  return {
    ...server,
    dbPath,
    stderr: () => stderr,
    async create(name, params) {
      const response = await fetch(`${server.url}/tasks`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name, params }),
      });
      if (response.status !== 201)
        throw new Error(`create ${name}: ${response.status} ${await response.text()}`);
      return (await response.json()) as TaskJson;
    },
    async ended(id, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (server.proc.exitCode !== null)
          throw new Error(`the server exited (${server.proc.exitCode}): ${stderr.slice(-2_000)}`);
        const task = await get<TaskJson>(`/tasks/${id}`);
        if (FINAL.includes(task.status)) return task;
        if (Date.now() > deadline) throw new Error(`task ${id} is still ${task.status}`);
        await Bun.sleep(25);
      }
    },
    async logs(id) {
      const lines: Array<{ level: string; message: string }> = [];
      let after: number | null = null;
      do {
        const page: {
          items: Array<{ id: number; level: string; message: string }>;
          nextCursor: number | null;
        } = await get(`/tasks/${id}/logs?limit=500${after === null ? "" : `&after=${after}`}`);
        lines.push(...page.items);
        after = page.nextCursor;
      } while (after !== null);
      return lines;
    },
    async views(id) {
      const paths = {
        task: `/tasks/${id}`,
        events: `/tasks/${id}/events`,
        logs: `/tasks/${id}/logs`,
        list: `/tasks?limit=500&cursor=${id.slice(0, -1)}z`,
      };
      const statuses: Record<string, number> = {};
      for (const [view, path] of Object.entries(paths)) {
        const response = await fetch(server.url + path);
        await response.arrayBuffer();
        statuses[view] = response.status;
      }
      return statuses;
    },
  };
}

/** Every view answered 200. */
export const ALL_OK = { task: 200, events: 200, logs: 200, list: 200 };
