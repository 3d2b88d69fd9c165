import { afterEach, describe, expect, test } from "bun:test";
import { linkSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { api, KILN_FROM_SOURCE, type ServingKiln, serveKiln } from "../binary/kiln-process.ts";
import { tempDir } from "../helpers.ts";
import { lines, start } from "./run.ts";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function workDir(): string {
  const dir = tempDir("kiln-owner-");
  cleanups.push(dir.remove);
  return dir.path;
}

async function serveOn(db: string, cwd: string): Promise<ServingKiln> {
  const server = await serveKiln(KILN_FROM_SOURCE, ["--db", db], cwd);
  cleanups.push(() => server.stop("SIGKILL"));
  return server;
}

/**
 * Starts `kiln serve --db <db>` and tells whether it exited or got as far as serving (then it is
 * killed): a second owner must never get there.
 */
async function secondServe(db: string) {
  const run = start(["serve", "--port", "0", "--db", db]);
  cleanups.push(() => run.kill());
  const outcome = await Promise.race([
    run.done.then(() => "exited" as const),
    run.waitForOutput(/"msg":"kiln serving"/, 30_000).then(
      () => "serving" as const,
      () => "exited" as const,
    ),
  ]);
  if (outcome === "serving") run.kill();
  return { outcome, ...(await run.done) };
}

const inUse = (db: string) =>
  `kiln: database ${db} is in use by another kiln process: one kiln owns a database file at a time (stop the other one, or give this one its own --db)`;

describe("one kiln per database file, whatever path leads to it", () => {
  test("a hard link, a symlink or a symlinked directory to a served database is refused in one line; after kill -9 of the owner they start", async () => {
    const dir = workDir();
    const db = join(dir, "kiln.db");
    const first = await serveOn(db, dir);
    const created = await api(`${first.url}/tasks`, { json: { name: "count", params: { to: 1 } } });
    expect(created.status).toBe(201);

    const hard = join(dir, "hard-link.db");
    const soft = join(dir, "symlink.db");
    const aliasDir = join(dir, "alias");
    linkSync(db, hard);
    symlinkSync(db, soft);
    symlinkSync(dir, aliasDir);
    const viaDir = join(aliasDir, "kiln.db");
    for (const path of [hard, soft, viaDir, db]) {
      const second = await secondServe(path);
      expect({ path, outcome: second.outcome, code: second.code }).toEqual({
        path,
        outcome: "exited",
        code: 1,
      });
      expect(lines(second.stderr)).toEqual([inUse(path)]);
    }
    // The owner noticed nothing.
    expect((await api(`${first.url}/ready`)).status).toBe(200);
    expect((await api(`${first.url}/tasks`, { json: { name: "count", params: { to: 1 } } })).status).toBe(
      201,
    );

    first.proc.kill("SIGKILL");
    await first.proc.exited;
    // The kernel dropped the lock with the process: the next owner starts, by the path the
    // first one used (its WAL is beside that path) or by a symlink.
    for (const path of [db, soft]) {
      const next = await serveOn(path, dir);
      const listed = await api<{ items: unknown[] }>(`${next.url}/tasks`);
      expect(listed.body.items.length).toBe(2);
      // SQLite names the WAL after the path: opening the file by another link after a crash
      // would not see it. kiln says so while a second link exists.
      const warning = JSON.parse(await next.waitForLine(/hard links/)) as { level: string; links: number };
      expect(warning).toMatchObject({ level: "warn", links: 2 });
      expect(await next.stop("SIGTERM")).toBe(0);
    }
  }, 120_000);
});
