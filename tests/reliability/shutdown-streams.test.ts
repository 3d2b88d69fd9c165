// SIGTERM and SIGINT of a real `kiln serve` while event-stream clients are connected: the
// streams end with a final `shutdown` event, the clients say so, and the process exits within
// the grace; a second signal exits at once. Either way the task carries on at the next start.
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import postgres from "postgres";
import { HTTP_DRAIN_MS, SHUTDOWN_GRACE_MS } from "../../src/cli/serve.ts";
import type { ServingKiln } from "../binary/kiln-process.ts";
import { type LiveRun, start as startCli } from "../cli/run.ts";
import { tempDir } from "../helpers.ts";
import { type SseMessage, SseReader } from "../http/sse.ts";
import { createDatabase } from "../support/postgres.ts";
import { serveReliability } from "./serve.ts";

/** How long after the first signal `kiln serve` exits at the latest, as the README documents it. */
const GRACE_MS = HTTP_DRAIN_MS + SHUTDOWN_GRACE_MS;

const dir = tempDir("kiln-shutdown-streams-");
const servers: ServingKiln[] = [];
const clients: LiveRun[] = [];
afterAll(async () => {
  for (const client of clients) client.kill();
  for (const server of servers) {
    server.proc.kill("SIGKILL");
    await server.proc.exited;
  }
  dir.remove();
});

async function serve(db: string): Promise<ServingKiln> {
  const server = await serveReliability(db, 2, dir.path);
  servers.push(server);
  return server;
}

interface Task {
  id: string;
  status: string;
  attempt: number;
  progress: { done: number | null } | null;
}

async function getTask(url: string, id: string): Promise<Task> {
  return (await (await fetch(`${url}/tasks/${id}`)).json()) as Task;
}

async function submit(url: string, name: string, params: unknown): Promise<string> {
  const response = await fetch(`${url}/tasks`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, params }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

/**
 * A raw `/events` client, as curl or a browser tab: `ended` resolves with every event it got
 * once the stream ends, and with the events so far if the connection breaks instead.
 */
async function openRawClient(url: string): Promise<{ ended: Promise<SseMessage[]> }> {
  const response = await fetch(`${url}/events`);
  expect(response.status).toBe(200);
  const reader = new SseReader(response.body as ReadableStream<Uint8Array>);
  const events: SseMessage[] = [];
  const ended = (async () => {
    try {
      for (let message = await reader.next(); message; message = await reader.next()) events.push(message);
    } catch {
      // A connection reset instead of an orderly end: what arrived is what the test checks.
    }
    return events;
  })();
  return { ended };
}

/** Resolves with the exit code, or "still running" when the process outlives `ms`. */
function exitWithin(server: ServingKiln, ms: number): Promise<number | "still running"> {
  return Promise.race([server.proc.exited, Bun.sleep(ms).then(() => "still running" as const)]);
}

/** The task's row as stored: read from the SQLite file, or over a connection of its own. */
async function storedRow(db: string, id: string): Promise<{ status: string; checkpoint: string | null }> {
  if (!db.startsWith("postgres")) return savedRow(db, id);
  const sql = postgres(db, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ status: string; checkpoint: string | null }[]>`
      SELECT status, checkpoint::text AS checkpoint FROM tasks WHERE id = ${id}`;
    if (!row) throw new Error(`no task ${id} in ${db}`);
    return row;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

function savedRow(dbPath: string, id: string): { status: string; checkpoint: string | null } {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.query("SELECT status, checkpoint FROM tasks WHERE id = ?").get(id) as {
      status: string;
      checkpoint: string | null;
    };
  } finally {
    db.close();
  }
}

async function logMessages(url: string, id: string): Promise<string[]> {
  const body = (await (await fetch(`${url}/tasks/${id}/logs?limit=500`)).json()) as {
    items: Array<{ message: string }>;
  };
  return body.items.map((line) => line.message);
}

describe.each(["sqlite", "postgres"] as const)("on %s", (store) => {
  test("SIGTERM with three /events clients: the streams end with a shutdown event, the CLI followers say so, kiln exits within the grace and the task resumes from its checkpoint", async () => {
    const database = store === "postgres" ? await createDatabase("kiln_shutdown") : undefined;
    const dbPath = database?.url ?? join(dir.path, "streams.db");
    const first = await serve(dbPath);
    const id = await submit(first.url, "ticker", { steps: 100_000, stepMs: 20 });
    await until("the task to run", async () => {
      const task = await getTask(first.url, id);
      return task.status === "RUNNING" && (task.progress?.done ?? 0) >= 3 ? task : undefined;
    });

    // Three clients of GET /events: a raw one (as curl or the dashboard), `kiln watch` and `kiln logs --follow`.
    const raw = await openRawClient(first.url);
    const env = { KILN_URL: first.url };
    const watch = startCli(["watch", id], env);
    const logs = startCli(["logs", id, "--follow", "--limit", "0"], env);
    clients.push(watch, logs);
    // Each prints only once its stream is open: watch a progress line, logs a new step.
    await watch.waitForOutput(/RUNNING/, 30_000);
    await logs.waitForOutput(/step \d+/, 30_000);

    const signalled = performance.now();
    first.proc.kill("SIGTERM");
    const code = await exitWithin(first, GRACE_MS);
    const exitMs = performance.now() - signalled;
    expect(code).toBe(0);
    expect(exitMs).toBeLessThan(GRACE_MS);
    await first.waitForLine(/"msg":"stopped"/);

    const events = await raw.ended;
    expect(events.at(-1)).toEqual({
      event: "shutdown",
      data: { message: "the server is shutting down" },
    });
    for (const follower of [watch, logs]) {
      const run = await follower.done;
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("the server is shutting down");
      expect(run.stderr).not.toContain("keeps closing");
    }

    // Saved as PENDING with its checkpoint: paused for the shutdown, not by a user.
    const saved = await storedRow(dbPath, id);
    expect(saved.status).toBe("PENDING");
    const checkpoint = (JSON.parse(saved.checkpoint ?? "{}") as { done?: number }).done ?? 0;
    expect(checkpoint).toBeGreaterThanOrEqual(3);

    const second = await serve(dbPath);
    const resumed = await until("the task to resume", async () => {
      const task = await getTask(second.url, id);
      return task.status === "RUNNING" && (task.progress?.done ?? 0) > checkpoint ? task : undefined;
    });
    expect(resumed.attempt).toBe(1);
    expect(await logMessages(second.url, id)).toContain(`starting at step ${checkpoint}`);
    second.proc.kill("SIGTERM");
    expect(await exitWithin(second, GRACE_MS)).toBe(0);
    console.log(
      `${store}: shutdown with 3 /events clients connected and 1 task running: ${exitMs.toFixed(0)} ms from SIGTERM to exit`,
    );
    await database?.drop();
  }, 180_000);
});

test("a second signal exits at once, without waiting for a task that has not reached a checkpoint; the task is restored on the next start", async () => {
  const dbPath = join(dir.path, "second-signal.db");
  const first = await serve(dbPath);
  const id = await submit(first.url, "sleeper", { sleepMs: 120_000 });
  // Its first checkpoint is written; from there it sleeps without reaching another.
  await until("the first checkpoint", async () => (savedRow(dbPath, id)?.checkpoint ? true : undefined));
  const raw = await openRawClient(first.url);

  first.proc.kill("SIGTERM");
  await first.waitForLine(/"msg":"shutting down"/);
  // The first signal waits up to the grace for the sleeper; the second one does not.
  expect(await exitWithin(first, 500)).toBe("still running");
  const signalled = performance.now();
  first.proc.kill("SIGINT");
  const code = await exitWithin(first, GRACE_MS / 2);
  const exitMs = performance.now() - signalled;
  expect(code).toBe(130);
  expect(first.lines.some((line) => line.includes('"msg":"stopped"'))).toBe(false);
  expect((await raw.ended).at(-1)?.event).toBe("shutdown");

  // Left RUNNING, as after a crash: the next start puts it back from its checkpoint.
  expect(savedRow(dbPath, id).status).toBe("RUNNING");
  const second = await serve(dbPath);
  await until("round 2", async () =>
    (await logMessages(second.url, id)).includes("round 2") ? true : undefined,
  );
  const task = await getTask(second.url, id);
  expect(task.status).toBe("RUNNING");
  expect(task.attempt).toBe(1);
  console.log(`second signal: ${exitMs.toFixed(0)} ms from SIGINT to exit`);
}, 180_000);

test("a task that does not reach a checkpoint within the grace is ended, kiln exits in time, and the task runs again on the next start", async () => {
  const dbPath = join(dir.path, "grace.db");
  const first = await serve(dbPath);
  const id = await submit(first.url, "sleeper", { sleepMs: 120_000 });
  await until("the first checkpoint", async () => (savedRow(dbPath, id)?.checkpoint ? true : undefined));
  const raw = await openRawClient(first.url);

  const signalled = performance.now();
  first.proc.kill("SIGTERM");
  // Generous beyond the grace: a loaded machine may be slow to terminate the worker and exit.
  const code = await exitWithin(first, GRACE_MS + 5_000);
  const exitMs = performance.now() - signalled;
  expect(code).toBe(0);
  expect(exitMs).toBeGreaterThanOrEqual(SHUTDOWN_GRACE_MS);
  expect(exitMs).toBeLessThan(GRACE_MS + 2_000);
  expect((await raw.ended).at(-1)?.event).toBe("shutdown");

  const second = await serve(dbPath);
  await until("round 2", async () =>
    (await logMessages(second.url, id)).includes("round 2") ? true : undefined,
  );
  console.log(`a task that never reached a checkpoint: ${exitMs.toFixed(0)} ms from SIGTERM to exit`);
}, 180_000);
