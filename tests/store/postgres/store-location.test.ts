import { describe, expect, test } from "bun:test";
import {
  openStore,
  PostgresTaskStore,
  parseStoreLocation,
  redactUrl,
  SqliteTaskStore,
  UnsupportedStoreLocationError,
} from "../../../src/store/index.ts";

describe("parseStoreLocation", () => {
  test.each([
    ["kiln.db", "kiln.db"],
    ["/var/lib/kiln/kiln.db", "/var/lib/kiln/kiln.db"],
    [":memory:", ":memory:"],
    ["sqlite:data/kiln.db", "data/kiln.db"],
    ["sqlite:///var/lib/kiln.db", "/var/lib/kiln.db"],
    ["sqlite://kiln.db", "kiln.db"],
    ["C:\\kiln\\kiln.db", "C:\\kiln\\kiln.db"],
  ])("%s is the SQLite file %s", (value, path) => {
    expect(parseStoreLocation(value)).toEqual({ dialect: "sqlite", path });
  });

  test.each([
    "postgres://kiln:pw@db.internal:5432/kiln",
    "postgresql://localhost/kiln?sslmode=require",
    "POSTGRES://localhost/kiln",
  ])("%s is a PostgreSQL database", (url) => {
    expect(parseStoreLocation(url)).toEqual({ dialect: "postgres", url });
  });

  test.each([
    "mysql://root:pw@localhost/kiln",
    "redis://localhost",
    "http://example.com/kiln.db",
    "",
    "sqlite:",
  ])("%p is refused with a clear error that shows no password", (value) => {
    let error: unknown;
    try {
      parseStoreLocation(value);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UnsupportedStoreLocationError);
    expect((error as Error).message).not.toContain("pw");
    expect((error as Error).message).not.toContain("\n");
  });

  test("redactUrl hides the password and nothing else", () => {
    expect(redactUrl("postgres://kiln:s3cret@db:5432/kiln?application_name=x")).toBe(
      "postgres://kiln@db:5432/kiln?application_name=x",
    );
    expect(redactUrl("postgres://db/kiln?password=s3cret")).not.toContain("s3cret");
    expect(redactUrl("postgres://kiln@db/kiln")).toBe("postgres://kiln@db/kiln");
  });

  test("openStore builds the store of each dialect", async () => {
    const sqlite = await openStore(":memory:");
    expect(sqlite).toBeInstanceOf(SqliteTaskStore);
    expect(sqlite.dialect).toBe("sqlite");
    await sqlite.close();
    const pg = await openStore("postgres://kiln:s3cret@127.0.0.1:5432/kiln_none");
    expect(pg).toBeInstanceOf(PostgresTaskStore);
    expect(pg.location).toBe("postgres://kiln@127.0.0.1:5432/kiln_none");
    await pg.close(); // never connected
  });
});
