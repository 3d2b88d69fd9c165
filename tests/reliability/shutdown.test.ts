import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { tempDir } from "../helpers.ts";
import { serveReliability } from "./serve.ts";

const TASKS = 50;

const dir = tempDir("kiln-shutdown-");
afterAll(() => dir.remove());

const serve = (dbPath: string) => serveReliability(dbPath, TASKS);

interface Task {
  id: string;
  status: string;
  attempt: number;
  progress: { done: number | null } | null;
}

async function tasks(url: string): Promise<Task[]> {
  return ((await (await fetch(`${url}/tasks?limit=500`)).json()) as { items: Task[] }).items;
}

test(`SIGTERM with ${TASKS} tasks running: all pause at checkpoints in the grace period and resume on the next start`, async () => {
  const dbPath = join(dir.path, "kiln.db");
  const journal = join(dir.path, "journal.log");
  const first = await serve(dbPath);
  for (let i = 0; i < TASKS; i++) {
    const response = await fetch(`${first.url}/tasks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "work", params: { steps: 1_000, stepMs: 100, journal } }),
    });
    expect(response.status).toBe(201);
  }
  // Long tasks: none may finish before the last one has started on a slow machine.
  const deadline = Date.now() + 120_000;
  while (
    !(await tasks(first.url)).every((task) => task.status === "RUNNING" && (task.progress?.done ?? 0) >= 2)
  ) {
    if (Date.now() > deadline) throw new Error("the tasks did not all start");
    await Bun.sleep(100);
  }

  const signalled = performance.now();
  first.proc.kill("SIGTERM");
  expect(await first.proc.exited).toBe(0);
  const shutdownMs = performance.now() - signalled;
  await first.waitForLine(/"msg":"stopped"/);

  const db = new Database(dbPath, { readonly: true });
  const saved = db.query("SELECT id, status, checkpoint FROM tasks").all() as Array<{
    id: string;
    status: string;
    checkpoint: string | null;
  }>;
  db.close();
  expect(saved).toHaveLength(TASKS);
  const checkpoints = new Map<string, number>();
  for (const row of saved) {
    expect(row.status).toBe("PENDING");
    const done = (JSON.parse(row.checkpoint ?? "{}") as { done?: number }).done ?? 0;
    expect(done).toBeGreaterThan(0);
    checkpoints.set(row.id, done);
  }

  const second = await serve(dbPath);
  try {
    const resumeDeadline = Date.now() + 120_000;
    for (;;) {
      const now = await tasks(second.url);
      // Each is running again, as the same attempt, past the checkpoint it was saved with.
      const resumed = now.filter(
        (task) =>
          task.status === "RUNNING" &&
          task.attempt === 1 &&
          (task.progress?.done ?? 0) > (checkpoints.get(task.id) ?? Number.POSITIVE_INFINITY),
      );
      if (resumed.length === TASKS) break;
      if (Date.now() > resumeDeadline) {
        throw new Error(`only ${resumed.length} of ${TASKS} tasks resumed after the restart`);
      }
      await Bun.sleep(200);
    }
  } finally {
    second.proc.kill("SIGTERM");
    await second.proc.exited;
  }
  console.log(
    `shutdown: ${TASKS} running tasks paused and saved in ${shutdownMs.toFixed(0)} ms after SIGTERM ` +
      `(checkpoints at steps ${Math.min(...checkpoints.values())}–${Math.max(...checkpoints.values())}); ` +
      "all resumed from there on the next start",
  );
}, 240_000);
