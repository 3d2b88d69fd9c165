// A rate limit under a real `kiln serve`, killed with SIGKILL inside a window and started again:
// from the history, no window holds more than `count` starts across the kill, and a task that
// waits after the restart shows when it may start as its runAt (`GET /tasks/:id`), on SQLite
// and on PostgreSQL.
import { afterEach, describe, expect, test } from "bun:test";
import { PostgresTaskStore, SqliteTaskStore, type TaskStore } from "../../src/index.ts";
import { api, type ServingKiln } from "../binary/kiln-process.ts";
import { STORE_KINDS } from "../stores.ts";
import { eventually, SDK, taskFileKiln } from "./serve-task-file.ts";

const PER_MS = 4_000;

const TASK_FILE = `import { BaseTask } from ${JSON.stringify(SDK)};
export class RatedTask extends BaseTask {
  static taskName = "rated-serve";
  static rateLimit = { count: 2, perMs: ${PER_MS}, key: (params) => params.customer };
  async run() {
    return { ok: true };
  }
}
`;

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface ShownTask {
  id: string;
  status: string;
  runAt: string | null;
  statusReason: string | null;
}

/** Every start of the tasks, from the history, in time order. */
async function startsOf(store: TaskStore, ids: string[]): Promise<number[]> {
  const starts: number[] = [];
  for (const id of ids) {
    for (const event of (await store.listEvents(id, { limit: 100 })).items) {
      if (event.action === "start") starts.push(event.at);
    }
  }
  return starts.sort((a, b) => a - b);
}

describe.each(STORE_KINDS)("a rate limit through kill -9 and restart of kiln serve, on %s", (kind) => {
  test("no window holds more than count starts across the kill; a waiting task's runAt shows when", async () => {
    const kiln = await taskFileKiln(kind, "kiln-serve-rate-", TASK_FILE, cleanups);
    const db = kiln.db;
    const serve = () => kiln.serve();
    const shown = async (kiln: ServingKiln, id: string) =>
      (await api<ShownTask>(`${kiln.url}/tasks/${id}`)).body;

    const first = await serve();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const created = await api<ShownTask>(`${first.url}/tasks`, {
        json: { name: "rated-serve", params: { customer: "c-9" } },
      });
      expect(created.status).toBe(201);
      ids.push(created.body.id);
    }
    // Two start at once; the third waits for the window, and says until when.
    const waiting = await eventually("a waiting task with its runAt", async () => {
      for (const id of ids) {
        const task = await shown(first, id);
        if (task.status === "PENDING" && task.runAt !== null) return task;
      }
      return undefined;
    });
    expect(waiting.statusReason).toBe(
      `rate limit of 2 starts per ${PER_MS} ms for key "c-9" reached; may start at ${waiting.runAt}`,
    );
    expect(await first.stop("SIGKILL")).not.toBe(0);

    const second = await serve();
    const after = await eventually("a waiting task with its runAt after the restart", async () => {
      for (const id of ids) {
        const task = await shown(second, id);
        if (task.status === "PENDING" && task.runAt !== null) return task;
      }
      return undefined;
    });
    await eventually(
      "every task finished",
      async () => {
        for (const id of ids) if ((await shown(second, id)).status !== "FINISHED") return undefined;
        return true;
      },
      30_000,
    );
    expect(await second.stop("SIGTERM")).toBe(0);

    const store: TaskStore =
      kind === "sqlite" ? new SqliteTaskStore({ path: db }) : new PostgresTaskStore({ url: db, max: 2 });
    cleanups.push(() => store.close());
    const starts = await startsOf(store, ids);
    // A run the kill interrupted starts again after the restart: a new start, counted too.
    expect(starts.length).toBeGreaterThanOrEqual(5);
    // Never 3 starts in one window, the kill and restart included (a start is written a little
    // after it was decided: the slack is far below the window).
    for (let i = 0; i + 2 < starts.length; i++) {
      expect((starts[i + 2] as number) - (starts[i] as number)).toBeGreaterThan(PER_MS - 500);
    }
    // The runAt shown after the restart was a window after the first start, and the task
    // started no earlier than it.
    const runAt = Date.parse(after.runAt as string);
    expect(runAt).toBeGreaterThanOrEqual((starts[0] as number) + PER_MS - 500);
    // Its last start: a task interrupted by the kill had started once before it.
    const afterStart = (await startsOf(store, [after.id])).at(-1) as number;
    expect(afterStart).toBeGreaterThanOrEqual(runAt - 50);
  }, 90_000);
});
