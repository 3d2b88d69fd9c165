import { Database } from "bun:sqlite";
import { afterEach, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { migrate } from "drizzle-orm/bun-sqlite/migrator";
import fc from "fast-check";
import { SqliteTaskStore } from "../../src/store/index.ts";
import { TASK_STATUSES, type TaskStatus } from "../../src/task/index.ts";
import { tempDir } from "../helpers.ts";

const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.remove();
});

type Counted = Array<{ status: TaskStatus; name: string; count: number }>;

function sorted(rows: Counted): Counted {
  return [...rows].sort((a, b) => `${a.status}/${a.name}`.localeCompare(`${b.status}/${b.name}`));
}

/** The truth, counted the slow way. */
function countedByScan(path: string): Counted {
  const db = new Database(path, { readonly: true });
  try {
    return db
      .query<{ status: TaskStatus; name: string; count: number }, []>(
        "SELECT status, task_name AS name, count(*) AS count FROM tasks GROUP BY status, task_name",
      )
      .all();
  } finally {
    db.close();
  }
}

const event = { fromStatus: null, toStatus: null, action: "test", reason: null, actor: null, source: null };

type Op =
  | { kind: "create"; name: string }
  | { kind: "move"; pick: number; to: TaskStatus }
  | { kind: "rename"; pick: number; name: string }
  | { kind: "delete"; pick: number };

const names = fc.constantFrom("walk", "copy", "count");
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("create" as const), name: names }),
  fc.record({ kind: fc.constant("move" as const), pick: fc.nat(), to: fc.constantFrom(...TASK_STATUSES) }),
  fc.record({ kind: fc.constant("rename" as const), pick: fc.nat(), name: names }),
  fc.record({ kind: fc.constant("delete" as const), pick: fc.nat() }),
);

test("the per-status-and-name counts the triggers keep equal a full count after any sequence of writes", () => {
  const dir = tempDir("kiln-counts-");
  dirs.push(dir);
  let run = 0;
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const path = join(dir.path, `counts-${run++}.db`);
      const store = new SqliteTaskStore({ path, backgroundCheckpoints: false });
      store.migrate();
      const ids: string[] = [];
      try {
        for (const step of ops) {
          const id = ids.length > 0 ? ids[("pick" in step ? step.pick : 0) % ids.length] : undefined;
          if (step.kind === "create") {
            const task = store.createTask(
              {
                id: Bun.randomUUIDv7(),
                taskName: step.name,
                status: "PENDING",
                params: null,
                priority: 0,
                runAt: null,
                idempotencyKey: null,
                tags: null,
              },
              event,
            );
            ids.push(task.id);
            continue;
          }
          if (id === undefined) continue;
          if (step.kind === "move") {
            const current = store.getTask(id)?.status;
            if (current) store.transition(id, [current], { status: step.to }, event);
          } else if (step.kind === "rename") {
            // Not something kiln does, but the counts must follow any change of the name column.
            new Database(path).exec(`UPDATE tasks SET task_name = '${step.name}' WHERE id = '${id}'`);
          } else if (store.deleteTask(id)) {
            ids.splice(ids.indexOf(id), 1);
          }
        }
        expect(sorted(store.countByStatusAndName())).toEqual(sorted(countedByScan(path)));
        const byStatus = store.countByStatus();
        for (const status of TASK_STATUSES) {
          const expected = countedByScan(path)
            .filter((row) => row.status === status)
            .reduce((sum, row) => sum + row.count, 0);
          expect(byStatus[status]).toBe(expected);
        }
      } finally {
        store.close();
      }
    }),
    { numRuns: 40 },
  );
});

test("a database from before the counts table gets them from its existing tasks", () => {
  const dir = tempDir("kiln-counts-");
  dirs.push(dir);
  const path = join(dir.path, "old.db");
  // Migrations 0000 and 0001 only, as the previous kiln left the file.
  const drizzleDir = join(import.meta.dir, "../../drizzle");
  const oldDir = join(dir.path, "migrations-0001");
  mkdirSync(join(oldDir, "meta"), { recursive: true });
  const journal = JSON.parse(readFileSync(join(drizzleDir, "meta/_journal.json"), "utf8")) as {
    entries: Array<{ tag: string }>;
  };
  journal.entries = journal.entries.filter((entry) => entry.tag < "0002");
  expect(journal.entries.map((entry) => entry.tag)).toEqual(["0000_init", "0001_event_source"]);
  for (const entry of journal.entries) {
    copyFileSync(join(drizzleDir, `${entry.tag}.sql`), join(oldDir, `${entry.tag}.sql`));
  }
  writeFileSync(join(oldDir, "meta/_journal.json"), JSON.stringify(journal));
  const old = new Database(path, { strict: true });
  migrate(drizzle({ client: old }), { migrationsFolder: oldDir });
  const insert = old.prepare(
    "INSERT INTO tasks (id, task_name, status, created_at, updated_at) VALUES (?, ?, ?, 1, 1)",
  );
  for (let i = 0; i < 30; i++)
    insert.run(`t${i}`, i % 3 === 0 ? "walk" : "copy", i % 2 ? "FINISHED" : "FAILED");
  old.close();

  const store = new SqliteTaskStore({ path, backgroundCheckpoints: false });
  try {
    store.migrate();
    expect(sorted(store.countByStatusAndName())).toEqual(sorted(countedByScan(path)));
    expect(store.countByStatus()).toMatchObject({ FINISHED: 15, FAILED: 15, PENDING: 0 });
  } finally {
    store.close();
  }
});
