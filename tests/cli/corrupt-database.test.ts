import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SqliteSyncStore } from "../../src/store/index.ts";
import { api, KILN_FROM_SOURCE, serveKiln } from "../binary/kiln-process.ts";
import { newTaskRow, tempDir } from "../helpers.ts";
import { kiln, lines } from "./run.ts";

const dir = tempDir("kiln-corrupt-");
afterAll(() => dir.remove());

const TASKS = 3_000;
const PAGE = 4_096;

/** A kiln database of ended tasks, written as kiln writes them (in id order), then closed. */
function pristine(): string {
  const path = join(dir.path, "pristine.db");
  const store = new SqliteSyncStore({ path, backgroundCheckpoints: false });
  store.migrate();
  const event = { reason: null, actor: null, source: null };
  for (let i = 0; i < TASKS; i++) {
    // Params as an array, which kiln keeps no searchable fields of: the file then ends with the
    // last leaves of the tasks and their history, pages start-up reads (the b-trees' edges). A
    // searchable field's index grows in the middle, and a damaged middle page is only found when read.
    const task = store.createTask(newTaskRow({ taskName: "count", params: [i, "x".repeat(40)] }), {
      ...event,
      fromStatus: null,
      toStatus: "PENDING",
      action: "create",
    });
    store.transition(
      task.id,
      ["PENDING"],
      { status: "FINISHED", result: i, endTime: Date.now() },
      {
        ...event,
        fromStatus: "PENDING",
        toStatus: "FINISHED",
        action: "finish",
      },
    );
  }
  store.close();
  return path;
}

const PRISTINE = pristine();

/** The same bytes every run: a damaged page is damaged the same way each time. */
function noise(length: number, seed = 7): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (state * 1_103_515_245 + 12_345) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

/** A copy of the pristine database, changed by `damage`. */
function damaged(name: string, damage: (bytes: Buffer) => Buffer): string {
  const path = join(dir.path, `${name}.db`);
  writeFileSync(path, damage(readFileSync(PRISTINE)));
  return path;
}

function overwritePage(bytes: Buffer, page: number): Buffer {
  const copy = Buffer.from(bytes);
  noise(PAGE, page).copy(copy, (page - 1) * PAGE);
  return copy;
}

/** The page numbers of a table's or index's leaf pages, in key order (dbstat's path). */
function leaves(path: string, name: string): number[] {
  const db = new Database(path, { readonly: true });
  try {
    return db
      .query<{ pageno: number }, [string]>(
        "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY path",
      )
      .all(name)
      .map((row) => row.pageno);
  } finally {
    db.close();
  }
}

/** The last leaf (in key order) of a b-tree: where the newest rows go. */
const lastLeaf = (name: string) => leaves(PRISTINE, name).at(-1) as number;

const remedy = (path: string) =>
  `restore it from a backup, or copy what is still readable into a new file with \`kiln recover --db ${path} --to ${path.replace(/\.db$/, "-recovered.db")}\` and start kiln on that`;

describe("a damaged database is reported in one line with what to do", () => {
  const pageCount = readFileSync(PRISTINE).length / PAGE;
  const cases: Array<{ name: string; damage: (bytes: Buffer) => Buffer; says: string }> = [
    {
      name: "cut-mid-page",
      damage: (bytes) => bytes.subarray(0, Math.floor(bytes.length / 2) + 1_000),
      says: "the database file is damaged: it is cut short: ",
    },
    {
      name: "cut-at-page",
      damage: (bytes) => bytes.subarray(0, Math.floor(pageCount / 2) * PAGE),
      says: `the database file is damaged: it is cut short: its header counts ${pageCount} pages, the file holds ${Math.floor(pageCount / 2)} (SQLITE_CORRUPT)`,
    },
    {
      name: "garbage-header",
      damage: (bytes) => Buffer.concat([noise(100), bytes.subarray(100)]),
      says: "the file is not a database, or its header is damaged: it does not start with the SQLite header (SQLITE_NOTADB)",
    },
    {
      name: "last-page",
      damage: (bytes) => overwritePage(bytes, pageCount),
      says: "the database file is damaged (SQLITE_CORRUPT)",
    },
    // Pages that nothing else reads at start-up: only the probe of every b-tree's edges sees them.
    {
      name: "last-history-page",
      damage: (bytes) => overwritePage(bytes, lastLeaf("task_events")),
      says: "the database file is damaged (SQLITE_CORRUPT)",
    },
    {
      name: "last-index-page",
      damage: (bytes) => overwritePage(bytes, lastLeaf("tasks_name_id")),
      says: "the database file is damaged (SQLITE_CORRUPT)",
    },
  ];
  for (const { name, damage, says } of cases) {
    test(`${name}: kiln serve exits 1 with one line, no stack`, async () => {
      const path = damaged(name, damage);
      const run = await kiln(["serve", "--port", "0", "--db", path]);
      expect(run.code).toBe(1);
      const [line, ...rest] = lines(run.stderr);
      expect(rest).toEqual([]);
      expect(line).toStartWith(`kiln: cannot use the database ${path}: ${says}`);
      expect(line).toEndWith(remedy(path));
    });
  }

  test("kiln check finds each of them, and passes the intact file", async () => {
    const intact = await kiln(["check", "--db", PRISTINE]);
    expect(intact.code).toBe(0);
    expect(intact.stdout).toStartWith(
      `kiln: database ${PRISTINE} is intact (${TASKS} tasks; integrity_check in `,
    );
    for (const { name, damage } of cases) {
      const path = damaged(name, damage);
      const run = await kiln(["check", "--db", path, "--quick"]);
      expect(run.code).toBe(1);
      expect(lines(run.stderr)).toHaveLength(1);
      expect(run.stderr).toStartWith(
        `kiln: database ${path}: ${name === "garbage-header" ? "the file is not a database" : "the database file is damaged"}`,
      );
      expect(run.stderr.trim()).toEndWith(remedy(path));
    }
  });
});

describe("a page damaged in the middle of the file", () => {
  test("kiln starts; a request that meets the page gets 503 in the error shape, never 500; /ready says why; kiln check and kiln recover", async () => {
    const tasks = leaves(PRISTINE, "tasks");
    const page = tasks[Math.floor(tasks.length / 2)] as number;
    const path = damaged("middle", (bytes) => overwritePage(bytes, page));
    const server = await serveKiln(KILN_FROM_SOURCE, ["--db", path], dir.path);
    try {
      // kiln started: nothing it reads at start-up is on the page. Its first count of tasks
      // (in the background) or this paging meets it, whichever comes first.
      const statuses: number[] = [];
      let failure: { error?: { code: string; message: string; details?: { cause?: string } } } | undefined;
      let cursor = "";
      for (;;) {
        const listed = await api<{ items?: unknown[]; nextCursor?: string | null; error?: never }>(
          `${server.url}/tasks?limit=100${cursor ? `&cursor=${cursor}` : ""}`,
        );
        statuses.push(listed.status);
        if (listed.status !== 200) {
          failure = listed.body as typeof failure;
          break;
        }
        if (!listed.body.nextCursor) break;
        cursor = listed.body.nextCursor;
      }
      expect(statuses.at(-1)).toBe(503);
      expect(statuses.filter((status) => status >= 500 && status !== 503)).toEqual([]);
      expect(failure?.error?.code).toBe("storage_unavailable");
      expect(failure?.error?.details?.cause).toBe("corrupt");
      expect(failure?.error?.message).toContain(remedy(path));

      const ready = await api<{ status: string; reason: string }>(`${server.url}/ready`);
      expect(ready.status).toBe(503);
      expect(ready.body.reason).toStartWith(
        "the database cannot be used: the database file is damaged (SQLITE_CORRUPT)",
      );
      const created = await api<{ error: { code: string } }>(`${server.url}/tasks`, {
        json: { name: "count", params: { to: 1 } },
      });
      expect(created.status).toBe(503);
      expect(created.body.error.code).toBe("storage_unavailable");
      expect((await api(`${server.url}/health`)).status).toBe(200);
      for (const route of ["/metrics", "/stats", `/tasks?limit=5`]) {
        expect({ route, status: (await fetch(`${server.url}${route}`)).status }).not.toMatchObject({
          status: 500,
        });
      }

      // Read-only, so it may run beside the server.
      const check = await kiln(["check", "--db", path]);
      expect(check.code).toBe(1);
      expect(lines(check.stderr)).toHaveLength(1);
      expect(check.stderr).toMatch(
        new RegExp(`^kiln: database ${path}: the database file is damaged: Tree \\d+ page ${page}: `),
      );
    } finally {
      expect(await server.stop("SIGTERM")).toBe(0);
    }

    const target = join(dir.path, "middle-recovered.db");
    const recovered = await kiln(["recover", "--db", path, "--to", target]);
    expect(recovered.code).toBe(0);
    const [summary, unreadable, ...rest] = lines(recovered.stdout);
    const copied = Number(/copied (\d+) tasks/.exec(summary ?? "")?.[1]);
    // The damaged page held a few dozen tasks; everything else is back.
    expect(copied).toBeGreaterThan(TASKS - 100);
    expect(copied).toBeLessThan(TASKS);
    expect(unreadable).toMatch(/^kiln: unreadable tasks: after row \d+ up to row \d+$/);
    expect(rest.at(-1)).toBe(`kiln: start kiln on the new file: kiln serve --db ${target}`);
    expect((await kiln(["check", "--db", target])).code).toBe(0);

    // The recovered file is a kiln database like any other.
    const next = await serveKiln(KILN_FROM_SOURCE, ["--db", target], dir.path);
    try {
      const listed = await api<{ items: unknown[] }>(`${next.url}/tasks?limit=500`);
      expect(listed.status).toBe(200);
      expect(listed.body.items).toHaveLength(500);
    } finally {
      expect(await next.stop("SIGTERM")).toBe(0);
    }
  }, 120_000);

  test("kiln recover reads what comes before the cut of a truncated file", async () => {
    const pages = readFileSync(PRISTINE).length / PAGE;
    const path = damaged("cut-for-recover", (bytes) => bytes.subarray(0, Math.floor(pages / 2) * PAGE));
    const target = join(dir.path, "cut-recovered.db");
    const recovered = await kiln(["recover", "--db", path, "--to", target]);
    expect(recovered.code).toBe(0);
    const copied = Number(/copied (\d+) tasks/.exec(recovered.stdout)?.[1]);
    expect(copied).toBeGreaterThan(TASKS / 4);
    expect(recovered.stdout).toMatch(/unreadable tasks: after row \d+ to the end/);
    expect((await kiln(["check", "--db", target])).code).toBe(0);
  });
});
