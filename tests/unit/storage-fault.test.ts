import { Database } from "bun:sqlite";
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { storageFaultOf } from "../../src/store/index.ts";
import { tempDir } from "../helpers.ts";

const dirs: Array<{ remove: () => void }> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.remove();
});

function database(): { path: string; db: Database } {
  const dir = tempDir("kiln-fault-");
  dirs.push(dir);
  const path = join(dir.path, "kiln.db");
  const db = new Database(path, { create: true, strict: true });
  db.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (v TEXT)");
  return { path, db };
}

/** The error a real SQLite call throws. */
function thrownBy(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  throw new Error("the call did not throw");
}

test("a write on a read-only connection is read_only (SQLITE_READONLY)", () => {
  const { path, db } = database();
  const reader = new Database(path, { readonly: true });
  try {
    const error = thrownBy(() => reader.run("INSERT INTO t VALUES ('x')"));
    expect(storageFaultOf(error, path)).toEqual({
      cause: "read_only",
      code: "SQLITE_READONLY",
      description: "the database file is read-only",
    });
  } finally {
    reader.close();
    db.close();
  }
});

test("a file that cannot be opened is cannot_open (SQLITE_CANTOPEN)", () => {
  const dir = tempDir("kiln-fault-");
  dirs.push(dir);
  const error = thrownBy(() => new Database(join(dir.path, "missing", "kiln.db"), { create: true }));
  expect(storageFaultOf(error)?.cause).toBe("cannot_open");
  expect(storageFaultOf(error)?.code).toBe("SQLITE_CANTOPEN");
});

test("a lock held past the busy timeout is busy (SQLITE_BUSY)", () => {
  const { path, db } = database();
  const other = new Database(path);
  try {
    other.exec("PRAGMA busy_timeout = 0");
    db.exec("BEGIN IMMEDIATE");
    const error = thrownBy(() => other.run("INSERT INTO t VALUES ('x')"));
    expect(storageFaultOf(error, path)?.cause).toBe("busy");
    expect(storageFaultOf(error, path)?.code).toBe("SQLITE_BUSY");
  } finally {
    db.exec("ROLLBACK");
    other.close();
    db.close();
  }
});

test("errors of the statement or the program are not storage faults", () => {
  const { db } = database();
  try {
    db.exec("CREATE TABLE u (v TEXT NOT NULL UNIQUE)");
    db.run("INSERT INTO u VALUES ('a')");
    expect(storageFaultOf(thrownBy(() => db.run("INSERT INTO u VALUES ('a')")))).toBeUndefined();
    expect(storageFaultOf(thrownBy(() => db.run("INSERT INTO nowhere VALUES (1)")))).toBeUndefined();
    expect(storageFaultOf(new Error("SQLITE_FULL"))).toBeUndefined();
    expect(storageFaultOf("SQLITE_FULL")).toBeUndefined();
  } finally {
    db.close();
  }
});
