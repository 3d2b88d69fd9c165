// The contract alone (bench/lean/): the engine the benches hold kiln against must keep the
// contract it is named for, or the comparison would flatter it. Checked on a real file, real Bun
// Workers and a real HTTP server: every acknowledged task is in the database, each ends FINISHED
// with its create, start and finish history rows in that order, and the server answers 201 only
// for a task it can then read back. No figure is asserted.
import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { join } from "node:path";
import { migrateWith } from "../../bench/child-run.ts";
import { Server } from "../../bench/http-client.ts";
import { LeanEngine, type LeanOptions } from "../../bench/lean/engine.ts";
import { tempDir } from "../helpers.ts";

const ROOT = join(import.meta.dir, "../..");
const TASKS = 300;

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await Bun.sleep(10);
  }
}

/** Runs `use` on a freshly migrated database file of its own, removed afterwards. */
async function withLeanDb(use: (path: string) => Promise<void>): Promise<void> {
  const dir = tempDir();
  try {
    const path = join(dir.path, "lean.db");
    await migrateWith(ROOT, path);
    await use(path);
  } finally {
    dir.remove();
  }
}

test.each([
  ["in one commit a turn", { splitCreates: false }],
  ["with its creates committed apart", { splitCreates: true }],
  ["with its commits made on a writer thread", { writer: "thread" }],
] satisfies Array<[string, LeanOptions]>)(
  "every task the contract alone acknowledges (%s) is stored, runs once and ends with its three history rows",
  (_, options) =>
    withLeanDb(async (path) => {
      let completed = 0;
      const engine = new LeanEngine(
        path,
        2,
        (count) => {
          completed += count;
        },
        options,
      );
      // Single creates, some in one turn and some in the next, and one bulk create.
      const acknowledged: Promise<unknown>[] = [];
      for (let i = 0; i < TASKS - 100; i++) {
        acknowledged.push(engine.create(1));
        if (i % 50 === 49) await Bun.sleep(0);
      }
      acknowledged.push(engine.create(100));
      await Promise.all(acknowledged);
      await until(() => completed === TASKS, 30_000);
      expect(engine.counts()).toEqual({ queued: 0, running: 0 });
      await engine.close();

      const db = new Database(path, { readonly: true });
      const statuses = db.query("SELECT status, count(*) AS n FROM tasks GROUP BY status").all();
      expect(statuses).toEqual([{ status: "FINISHED", n: TASKS }]);
      const histories = db
        .query<{ actions: string }, []>(
          "SELECT group_concat(action, ',') AS actions FROM (SELECT task_id, action FROM task_events ORDER BY task_id, id) GROUP BY task_id",
        )
        .all();
      expect(histories).toHaveLength(TASKS);
      for (const { actions } of histories) expect(actions).toBe("create,start,finish");
      db.close();
    }),
  60_000,
);

test.each([
  ["on its main thread", {}],
  ["on a writer thread", { writer: "thread" }],
] satisfies Array<[string, LeanOptions]>)(
  "the contract alone closed (%s) right after a create commits it first",
  (_, options) =>
    withLeanDb(async (path) => {
      const engine = new LeanEngine(path, 2, () => {}, options);
      let acknowledged = false;
      void engine.create(50).then(() => {
        acknowledged = true;
      });
      await engine.close();
      expect(acknowledged).toBe(true);
      const db = new Database(path, { readonly: true });
      expect(db.query("SELECT count(*) AS n FROM tasks").get()).toEqual({ n: 50 });
      expect(db.query("SELECT count(*) AS n FROM task_events WHERE action = 'create'").get()).toEqual({
        n: 50,
      });
      db.close();
    }),
  60_000,
);

test.each([
  ["on the main thread", []],
  ["on a writer thread", ["--writer-thread"]],
])(
  "the contract alone over HTTP, committing %s, answers 201 with a task it then reads back, and runs it to FINISHED",
  async (_, flags) => {
    const script = join(ROOT, "bench/lean/http-server.ts");
    await Server.with({ concurrency: 2, script, flags }, async (server) => {
      const id = await server.create("bench-noop");
      const deadline = Date.now() + 10_000;
      let task = await server.json<{ id: string; status: string }>(`/tasks/${id}`);
      while (task.body.status !== "FINISHED" && Date.now() < deadline) {
        await Bun.sleep(10);
        task = await server.json<{ id: string; status: string }>(`/tasks/${id}`);
      }
      expect(task).toEqual({ status: 200, body: expect.objectContaining({ id, status: "FINISHED" }) });
      const usage = await server.usage();
      expect(usage.finishedEvents).toBe(1);
      expect((await server.json<{ error: string }>("/tasks/no-such-task")).status).toBe(404);
      const invalid = await fetch(`${server.base}/tasks`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "" }),
      });
      expect(invalid.status).toBe(422);
    });
  },
  60_000,
);
