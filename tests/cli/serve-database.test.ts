import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { tempDir } from "../helpers.ts";
import { diskFull } from "../reliability/storage-faults.ts";
import { kiln, lines } from "./run.ts";

const full = diskFull();
afterAll(() => full?.dir.remove());

test("a database kiln cannot open stops start-up with one line naming it", async () => {
  const dir = tempDir("kiln-serve-db-");
  try {
    const db = join(dir.path, "missing", "kiln.db");
    const run = await kiln(["serve", "--port", "0", "--db", db]);
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toEqual([
      `kiln: cannot use the database ${db}: the database file cannot be opened (SQLITE_CANTOPEN)`,
    ]);
  } finally {
    dir.remove();
  }
});

// A real full disk needs a tmpfs mount (root); without one there is nothing real to start on.
test.skipIf(full === undefined)(
  "a database on a full disk stops start-up with one line naming the cause",
  async () => {
    if (!full) return;
    await full.start();
    const db = join(full.dir.path, "kiln.db");
    const run = await kiln(["serve", "--port", "0", "--db", db]);
    full.clear();
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toEqual([
      `kiln: cannot use the database ${db}: the disk holding the database is full (SQLITE_FULL)`,
    ]);
  },
);
