import { dirname } from "node:path";
import { KILN_FROM_SOURCE, type ServingKiln, serveKiln } from "../binary/kiln-process.ts";

const TASKS_DIR = new URL("./task-files/", import.meta.url).pathname;

/** `kiln serve` from source on `dbPath`, with the reliability task files. */
export function serveReliability(dbPath: string, concurrency: number): Promise<ServingKiln> {
  return serveKiln(KILN_FROM_SOURCE, ["--db", dbPath, "--tasks-dir", TASKS_DIR], dirname(dbPath), {
    KILN_CONCURRENCY: String(concurrency),
  });
}
