// The dashboard over a history of 100,000 tasks: keyset paging from the page and the API.
import { Database } from "bun:sqlite";
import { expect } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { SqliteSyncStore } from "../../src/store/index.ts";
import {
  browserSuite,
  type Kiln,
  launchBrowser,
  openTab,
  screenshot,
  startKiln,
  type Tab,
} from "./harness.ts";

const { test, beforeAll, afterAll } = browserSuite();

const COUNT = 100_000;
const FAILED_EVERY = 10;
/** The seeded history spans the last two hours, so about half of it ended in the last hour. */
const SPAN_MS = 2 * 60 * 60 * 1000;

let seedMs = 0;

/** 100,000 ended tasks, each with the event that ended it, written straight into the database. */
function seed(dbPath: string): void {
  const started = performance.now();
  const store = new SqliteSyncStore({ path: dbPath });
  store.migrate();
  store.close();
  const db = new Database(dbPath);
  const insertTask = db.prepare(
    `INSERT INTO tasks (id, task_name, status, status_reason, params, result, error, attempt, retries, priority,
       tags, start_time, end_time, last_run_time, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, 1, 0, 0, ?, ?, ?, ?, ?, ?)`,
  );
  // Each tag's row too, as kiln writes it at create: the tag filter reads those.
  const insertTag = db.prepare("INSERT INTO task_tags (task_id, tag) VALUES (?, ?)");
  const insertEvent = db.prepare(
    "INSERT INTO task_events (task_id, at, from_status, to_status, action, reason, actor) VALUES (?, ?, 'RUNNING', ?, ?, NULL, 'kiln')",
  );
  const first = Date.now() - SPAN_MS;
  const step = SPAN_MS / COUNT;
  db.transaction(() => {
    for (let i = 0; i < COUNT; i++) {
      const created = Math.floor(first + i * step);
      const ended = created + 40;
      const failed = i % FAILED_EVERY === 0;
      const id = Bun.randomUUIDv7("hex", created);
      insertTask.run(
        id,
        i % 2 ? "echo" : "steps",
        failed ? "FAILED" : "FINISHED",
        failed ? "boom" : null,
        JSON.stringify({ value: i }),
        failed ? null : JSON.stringify({ value: i }),
        failed ? JSON.stringify({ name: "Error", message: "boom", retryable: false }) : null,
        JSON.stringify(tagsOf(i)),
        created + 5,
        ended,
        created + 5,
        created,
        ended,
      );
      for (const tag of tagsOf(i)) insertTag.run(id, tag);
      insertEvent.run(id, ended, failed ? "FAILED" : "FINISHED", failed ? "fail" : "finish");
    }
  })();
  db.close();
  seedMs = performance.now() - started;
}

/** The tags of seeded task i: "bulk", and "hundredth" on one task in 100. */
function tagsOf(i: number): string[] {
  return i % 100 === 0 ? ["bulk", "hundredth"] : ["bulk"];
}

let browser: Browser;
let kiln: Kiln;
let tab: Tab;

beforeAll(async () => {
  [browser, kiln] = await Promise.all([launchBrowser(), startKiln({ seed })]);
  tab = await openTab(browser);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await kiln?.stop();
});

const rowIds = (page: Page) =>
  page
    .locator("tr[data-task-id]")
    .evaluateAll((rows) => rows.map((row) => row.getAttribute("data-task-id") ?? ""));

/** Waits for the table to show a page other than the one starting with `before`, fully loaded. */
async function waitForNewPage(page: Page, before: string | undefined): Promise<void> {
  await page.waitForFunction(
    (previous) =>
      !document.querySelector("table.tasks.loading") &&
      document.querySelector("tr[data-task-id]")?.getAttribute("data-task-id") !== previous,
    before ?? "",
  );
}

/** Clicks "Older" `pages` times; returns each page's ids and the time each took to show. */
async function pageBack(page: Page, pages: number): Promise<{ ids: string[][]; ms: number[] }> {
  const ids: string[][] = [await rowIds(page)];
  const ms: number[] = [];
  for (let i = 0; i < pages; i++) {
    const before = ids.at(-1)?.[0];
    const started = performance.now();
    await page.getByRole("button", { name: "Older →" }).click();
    await waitForNewPage(page, before);
    ms.push(performance.now() - started);
    ids.push(await rowIds(page));
  }
  return { ids, ms };
}

/** Every page is newest first, and each starts below where the one before it ended. */
function expectKeysetOrder(pages: string[][], size: number): void {
  const all = pages.flat();
  expect(new Set(all).size).toBe(all.length);
  expect(all).toEqual([...all].sort().reverse());
  for (const ids of pages) expect(ids.length).toBe(size);
}

const summary = (ms: number[]) => {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return `median ${at(0.5).toFixed(0)} ms, p90 ${at(0.9).toFixed(0)} ms, max ${at(1).toFixed(0)} ms`;
};

// About 50 s on a loaded 2-core machine: its own limit, wider than the suite's 60 s.
test("pages through 100,000 tasks from the dashboard with keyset paging", async () => {
  const { page } = tab;
  const timings: string[] = [`seeded ${COUNT} tasks in ${seedMs.toFixed(0)} ms`];

  let started = performance.now();
  await page.goto(`${kiln.base}/dashboard`);
  await page.locator("tr[data-task-id]").nth(49).waitFor();
  await page.locator(".summary .card-finished .card-value").first().waitFor();
  timings.push(`first page of 50 shown ${(performance.now() - started).toFixed(0)} ms after navigation`);
  const cards = await page.locator(".statuses .card-value").allTextContents();
  expect(cards.map(Number)).toEqual([0, 0, 0, COUNT - COUNT / FAILED_EVERY, COUNT / FAILED_EVERY, 0]);
  const lastHour = Number(await page.locator(".activity .card-finished .card-value").textContent());
  expect(lastHour).toBeGreaterThan(COUNT * 0.4);
  expect(lastHour).toBeLessThan(COUNT * 0.5);

  const fifty = await pageBack(page, 20);
  expectKeysetOrder(fifty.ids, 50);
  timings.push(`20 × "Older" at 50 per page: ${summary(fifty.ms)}`);

  await page.locator("#page-size").selectOption("200");
  await page.locator("tr[data-task-id]").nth(199).waitFor();
  const wide = await pageBack(page, 20);
  expectKeysetOrder(wide.ids, 200);
  timings.push(`20 × "Older" at 200 per page: ${summary(wide.ms)}`);
  expect(await page.locator(".page-number").textContent()).toBe("Page 21");
  await screenshot(page, "dashboard-100k.png");

  await page.locator("#filter-status").selectOption("FAILED");
  await page.waitForFunction(
    () =>
      !document.querySelector("table.tasks.loading") &&
      [...document.querySelectorAll("tr[data-task-id] .status")].every(
        (badge) => badge.textContent === "FAILED",
      ),
  );
  const failed = await pageBack(page, 10);
  expectKeysetOrder(failed.ids, 200);
  timings.push(`10 × "Older", FAILED only, 200 per page: ${summary(failed.ms)}`);

  await page.locator("#filter-status").selectOption("");
  started = performance.now();
  await page.locator("#filter-tag").fill("hundredth");
  await page.waitForFunction(() => document.querySelectorAll("tr[data-task-id]").length === 200);
  await page.waitForFunction(
    () =>
      !document.querySelector("table.tasks.loading") &&
      [...document.querySelectorAll("tr[data-task-id]")].every((row) =>
        row.textContent?.includes("hundredth"),
      ),
  );
  const tagged = await pageBack(page, 4);
  expectKeysetOrder(tagged.ids, 200);
  timings.push(
    `tag filter (1 task in 100): first page ${(performance.now() - started).toFixed(0)} ms incl. typing pause; 4 × "Older": ${summary(tagged.ms)}`,
  );

  // The deepest pages cost what the first does: the cursor is a key, not an offset.
  const db = new Database(kiln.dbPath, { readonly: true });
  const deep = db
    .query<{ id: string }, []>("SELECT id FROM tasks ORDER BY id DESC LIMIT 1 OFFSET 99900")
    .get();
  db.close();
  const api: number[] = [];
  for (const cursor of [undefined, deep?.id]) {
    for (let i = 0; i < 5; i++) {
      started = performance.now();
      const response = await kiln.call(`/tasks?limit=50${cursor ? `&cursor=${cursor}` : ""}`);
      const body = (await response.json()) as { items: unknown[]; nextCursor: string | null };
      api.push(performance.now() - started);
      expect(body.items.length).toBe(50);
    }
  }
  timings.push(
    `GET /tasks?limit=50: first page ${summary(api.slice(0, 5))}; at offset 99,900 ${summary(api.slice(5))}`,
  );
  started = performance.now();
  expect((await kiln.call("/stats")).status).toBe(200);
  timings.push(
    `GET /stats over 100,000 tasks and ~50,000 ended in the last hour: ${(performance.now() - started).toFixed(0)} ms`,
  );

  console.log(`100k paging:\n  ${timings.join("\n  ")}`);
  expect(tab.errors).toEqual([]);
}, 180_000);
