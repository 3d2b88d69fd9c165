// The tags filter on PostgreSQL (`tags @> '["x"]'`, jsonb containment) reads the GIN index
// tasks_tags: a page of a rare tag reads its few tasks, instead of walking every newer task in
// id order until the page is full.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { PostgresTaskStore } from "../../../src/store/index.ts";
import { listTasksSql } from "../../../src/store/list-tasks-sql.ts";
import { rawClient, testDatabase } from "./database.ts";

const COMMON = 20_000;
let database: Awaited<ReturnType<typeof testDatabase>>;
let store: PostgresTaskStore;
let sql: ReturnType<typeof rawClient>;
const rareIds: string[] = [];

beforeAll(async () => {
  database = await testDatabase();
  store = new PostgresTaskStore({ url: database.url, max: 2 });
  await store.migrate();
  sql = rawClient(database.url);
  // The rare tag's three tasks are the oldest: an id-order scan would pass every other task first.
  const at = Date.now() - 60_000;
  for (let i = 0; i < 3; i++) rareIds.push(Bun.randomUUIDv7("hex", at + i));
  const common = Array.from({ length: COMMON }, (_, i) => Bun.randomUUIDv7("hex", at + 1_000 + i));
  // In a transaction: postgres.js binds the arrays right there (on the pool it sent them as plain text).
  await sql.begin(async (tx) => {
    await tx`
      INSERT INTO tasks (id, task_name, status, tags, created_at, updated_at)
      SELECT id, 'echo', 'FINISHED', ${'["rare","common"]'}::text::jsonb, ${at}, ${at}
      FROM unnest(${tx.array(rareIds)}::text[]) AS t(id)`;
    await tx`
      INSERT INTO tasks (id, task_name, status, tags, created_at, updated_at)
      SELECT id, 'echo', 'FINISHED', ${'["common","batch"]'}::text::jsonb, ${at}, ${at}
      FROM unnest(${tx.array(common)}::text[]) AS t(id)`;
  });
  await sql`ANALYZE tasks`;
});
afterAll(async () => {
  await sql?.end();
  await store?.close();
  await database?.drop();
});

/** The plan of the store's own list query for `query`, with its values bound, as JSON. */
async function planOf(query: { tag: string; status?: "FINISHED" }): Promise<string> {
  const { sql: text, params } = listTasksSql(query, "postgres", 51);
  // This client sends a jsonb parameter as JSON of the value given: the tag array itself, then.
  const bound = params.map((value: unknown) =>
    typeof value === "string" && value.startsWith("[") ? JSON.parse(value) : value,
  );
  const rows = await sql.unsafe<{ "QUERY PLAN": unknown }[]>(`EXPLAIN (FORMAT JSON) ${text}`, bound);
  return JSON.stringify(rows[0]?.["QUERY PLAN"]);
}

test("the schema has the GIN index on tags, jsonb_path_ops", async () => {
  const [index] = await sql<{ indexdef: string }[]>`
    SELECT indexdef FROM pg_indexes WHERE tablename = 'tasks' AND indexname = 'tasks_tags'`;
  expect(index?.indexdef).toContain("USING gin (tags jsonb_path_ops)");
});

test("a page of a rare tag is read through tasks_tags, and holds its tasks", async () => {
  for (const query of [{ tag: "rare" }, { tag: "rare", status: "FINISHED" as const }]) {
    const plan = await planOf(query);
    expect({ query, usesTagIndex: plan.includes('"Index Name":"tasks_tags"') }).toEqual({
      query,
      usesTagIndex: true,
    });
  }
  const page = await store.listTasks({ tag: "rare" });
  expect(page.items.map((task) => task.id)).toEqual([...rareIds].reverse());
  expect(page.nextCursor).toBeNull();
});

test("a tag on every task still pages in id order, and pages right", async () => {
  const first = await store.listTasks({ tag: "common", limit: 50 });
  expect(first.items).toHaveLength(50);
  const second = await store.listTasks({ tag: "common", limit: 50, cursor: first.nextCursor ?? "" });
  expect((second.items[0]?.id ?? "") < (first.items.at(-1)?.id ?? "")).toBe(true);
  expect(second.items).toHaveLength(50);
});
