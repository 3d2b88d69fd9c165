// `kiln serve` from source over a task file of a test's own, on a fresh SQLite file or a fresh
// PostgreSQL database, started as often as the test needs (a restart after `kill -9`).
import { join } from "node:path";
import { KILN_FROM_SOURCE, type ServingKiln, serveKiln } from "../binary/kiln-process.ts";
import { tempDir } from "../helpers.ts";
import { testDatabase } from "../store/postgres/database.ts";
import type { StoreKind } from "../stores.ts";

/** The SDK's path, for a task file's `import { BaseTask } from …`. */
export const SDK = new URL("../../src/index.ts", import.meta.url).pathname;

export interface TaskFileKiln {
  /** The `--db` value: the SQLite file's path or the PostgreSQL database's URL. */
  db: string;
  /** Starts `kiln serve` on it (killed with SIGKILL at cleanup if still running). */
  serve(extraArgs?: readonly string[]): Promise<ServingKiln>;
}

/**
 * A directory with `source` as its one task file and a store of `kind`; what it makes is undone
 * by the functions it pushes on `cleanups` (run them in reverse order).
 */
export async function taskFileKiln(
  kind: StoreKind,
  prefix: string,
  source: string,
  cleanups: (() => Promise<unknown> | unknown)[],
): Promise<TaskFileKiln> {
  const dir = tempDir(prefix);
  cleanups.push(dir.remove);
  const tasksDir = join(dir.path, "tasks");
  await Bun.write(join(tasksDir, "tasks.ts"), source);
  let db = join(dir.path, "kiln.db");
  if (kind === "postgres") {
    const database = await testDatabase();
    cleanups.push(() => database.drop());
    db = database.url;
  }
  return {
    db,
    serve: async (extraArgs = []) => {
      const args = ["--db", db, "--tasks-dir", tasksDir, ...extraArgs];
      const server = await serveKiln(KILN_FROM_SOURCE, args, dir.path);
      cleanups.push(() => server.stop("SIGKILL"));
      return server;
    },
  };
}

/** Polls `check` until it answers a value; fails naming `what` after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 50,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const value = await check();
    if (value !== undefined) return value;
    await Bun.sleep(intervalMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}
