import { dirname } from "node:path";
import { KILN_FROM_SOURCE, type ServingKiln, serveKiln } from "../binary/kiln-process.ts";

const TASKS_DIR = new URL("./task-files/", import.meta.url).pathname;

/**
 * `kiln serve` from source on `db` (a SQLite path, or a PostgreSQL URL with `cwd` given), with
 * the reliability task files.
 */
export function serveReliability(db: string, concurrency: number, cwd = dirname(db)): Promise<ServingKiln> {
  return serveKiln(KILN_FROM_SOURCE, ["--db", db, "--tasks-dir", TASKS_DIR], cwd, {
    KILN_CONCURRENCY: String(concurrency),
  });
}
