// Two real `kiln serve` processes on one PostgreSQL database: the second, however it spells
// the URL, exits 1 with one line before it reads or writes anything, and the first serves on
// untouched; once the first has stopped, the database can be served again.
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { api, KILN_FROM_SOURCE, type ServingKiln, serveKiln } from "../binary/kiln-process.ts";
import { tempDir } from "../helpers.ts";
import { testDatabase } from "../store/postgres/database.ts";
import { lines } from "./run.ts";

let database: Awaited<ReturnType<typeof testDatabase>>;
beforeAll(async () => {
  database = await testDatabase();
});
afterAll(async () => {
  await database.drop();
});
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serveOn(url: string): Promise<ServingKiln> {
  const dir = tempDir("kiln-pg-owner-");
  cleanups.push(dir.remove);
  const server = await serveKiln(KILN_FROM_SOURCE, ["--db", url], dir.path);
  cleanups.push(() => server.stop("SIGKILL"));
  return server;
}

/** A second `kiln serve` on `url`, run until it exits (killed, and reported so, if it serves instead). */
async function secondServe(url: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = tempDir("kiln-pg-owner-");
  cleanups.push(dir.remove);
  const proc = Bun.spawn([...KILN_FROM_SOURCE, "serve", "--port", "0", "--log-format", "json", "--db", url], {
    cwd: dir.path,
    env: { PATH: process.env.PATH ?? "" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  cleanups.push(() => proc.kill("SIGKILL"));
  const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

interface Task {
  id: string;
  status: string;
  attempt: number;
}

test("a second kiln serve on a database another kiln serves exits 1 with one line, and leaves the first's tasks alone", async () => {
  const first = await serveOn(database.url);
  const created = await api<Task>(`${first.url}/tasks`, {
    json: { name: "count", params: { to: 100_000, delayMs: 20 } },
  });
  expect(created.status).toBe(201);
  const id = created.body.id;
  for (let i = 0; (await api<Task>(`${first.url}/tasks/${id}`)).body.status !== "RUNNING"; i++) {
    if (i > 500) throw new Error("the task did not start");
    await Bun.sleep(20);
  }
  const eventsBefore = (await api<{ items: unknown[] }>(`${first.url}/tasks/${id}/events`)).body.items;

  // The same database by another spelling of its URL: the lock is the server's, not the URL's.
  const respelled = database.url.replace(/^postgres:\/\//, "postgresql://");
  for (const url of [database.url, respelled]) {
    const second = await secondServe(url);
    const shown = url.replace(/^(postgres(?:ql)?:\/\/[^:@/]+):[^@]*@/, "$1@");
    expect(second.code).toBe(1);
    expect(lines(second.stderr)).toEqual([
      `kiln: database ${shown} is in use by another kiln process: one kiln owns a PostgreSQL database at a time (stop the other one, or give this one its own database)`,
    ]);
    // Refused before serving, restoring or migrating: not a line of a start-up.
    expect(second.stdout).not.toContain("kiln serving");
    expect(second.stdout).not.toContain("restored");
  }

  // The first is still the owner and its running task was not touched.
  const task = (await api<Task>(`${first.url}/tasks/${id}`)).body;
  expect(task).toMatchObject({ status: "RUNNING", attempt: 1 });
  const eventsAfter = (await api<{ items: unknown[] }>(`${first.url}/tasks/${id}/events`)).body.items;
  expect(eventsAfter).toEqual(eventsBefore);
  expect((await fetch(`${first.url}/ready`)).status).toBe(200);

  // Once the first has stopped, the lock is free: another kiln serves the database.
  expect(await first.stop()).toBe(0);
  const next = await serveOn(respelled);
  expect((await api<Task>(`${next.url}/tasks/${id}`)).body.id).toBe(id);
  expect(await next.stop()).toBe(0);
}, 90_000);
