import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { api, KILN_FROM_SOURCE, type ServingKiln, serveKiln } from "../binary/kiln-process.ts";
import { tempDir } from "../helpers.ts";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Submission {
  /** Sent after the file at the path was deleted or replaced. */
  afterSwap: boolean;
  status: number;
  id?: string;
  error?: { code: string; message: string; details?: { cause?: string } };
}

/**
 * Creates tasks one after another until `swap` has run and `after` more answers have come back,
 * calling `swap` once `before` tasks were acknowledged. Each answer records whether its request
 * was sent after the swap had returned.
 */
async function writeAcross(server: ServingKiln, swap: () => void, before = 20, after = 30) {
  const submissions: Submission[] = [];
  let swapped = false;
  for (let afterCount = 0; afterCount < after; ) {
    const afterSwap = swapped;
    const { status, body } = await api<{ id?: string; error?: Submission["error"] }>(`${server.url}/tasks`, {
      json: { name: "count", params: { to: 1 } },
    });
    submissions.push({ afterSwap, status, id: body?.id, error: body?.error });
    if (afterSwap) afterCount++;
    if (!swapped && submissions.filter((s) => s.status === 201).length >= before) {
      swap();
      swapped = true;
    }
  }
  return submissions;
}

/** The task ids in the database file now at `path` (read once kiln has stopped). */
function idsAt(path: string): Set<string> {
  if (!existsSync(path)) return new Set();
  const db = new Database(path, { readonly: true });
  try {
    return new Set(
      db
        .query<{ id: string }, []>("SELECT id FROM tasks")
        .all()
        .map((row) => row.id),
    );
  } finally {
    db.close();
  }
}

async function serving(): Promise<{ server: ServingKiln; db: string; dir: string }> {
  const dir = tempDir("kiln-dbfile-");
  cleanups.push(dir.remove);
  const db = join(dir.path, "kiln.db");
  const server = await serveKiln(KILN_FROM_SOURCE, ["--db", db], dir.path);
  cleanups.push(() => server.stop("SIGKILL"));
  return { server, db, dir: dir.path };
}

describe("the database file deleted or replaced under a running server", () => {
  for (const how of ["deleted", "replaced"] as const) {
    test(`${how}: writes get 503, /ready says why, and nothing is acknowledged that is not in the file at the path`, async () => {
      const { server, db, dir } = await serving();
      expect((await api(`${server.url}/ready`)).status).toBe(200);
      const swap =
        how === "deleted"
          ? () => rmSync(db)
          : () => {
              // A restore done wrong: another database renamed over the live one.
              const other = join(dir, "other.db");
              const source = new Database(db, { readonly: true });
              source.exec(`VACUUM INTO '${other}'`);
              source.close();
              renameSync(other, db);
            };
      const submissions = await writeAcross(server, swap);
      const afterSwap = submissions.filter((s) => s.afterSwap);
      // Every write sent after the swap is refused, with the error shape and the cause.
      expect(afterSwap.map((s) => s.status)).toEqual(afterSwap.map(() => 503));
      const cause = how === "deleted" ? "file_deleted" : "file_replaced";
      for (const refused of afterSwap) {
        expect(refused.error?.code).toBe("storage_unavailable");
        expect(refused.error?.details?.cause).toBe(cause);
      }
      expect(afterSwap[0]?.error?.message).toContain(
        how === "deleted" ? "the database file was deleted" : "another file was put at the database's path",
      );

      const ready = await api<{ status: string; reason: string }>(`${server.url}/ready`);
      expect(ready.status).toBe(503);
      expect(ready.body.status).toBe("not_ready");
      expect(ready.body.reason).toContain(how === "deleted" ? "was deleted" : "another file was put");
      // The server lives on and still reads what it has.
      expect((await api(`${server.url}/health`)).status).toBe(200);
      const earlier = submissions.find((s) => s.status === 201);
      expect((await api(`${server.url}/tasks/${earlier?.id}`)).status).toBe(200);

      expect(await server.stop("SIGTERM")).toBe(0);
      const stored = idsAt(db);
      const acknowledgedAfterSwap = afterSwap.filter((s) => s.status === 201 && !stored.has(s.id ?? ""));
      expect(acknowledgedAfterSwap).toEqual([]);
      if (how === "replaced") {
        // The file put in place is intact: kiln wrote nothing into it, and its stop did not
        // mix the old file's WAL into it.
        const check = new Database(db, { readonly: true });
        expect(check.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
        check.close();
      }
    }, 60_000);
  }
});
