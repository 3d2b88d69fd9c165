// The dashboard's bulk actions in a real headless Chromium against a real kiln server: each
// asks for confirmation in a dialog, then acts through POST /tasks/bulk and says what it did.
import { expect } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { untilStatus } from "../helpers.ts";
import {
  browserSuite,
  createTask,
  type Kiln,
  launchBrowser,
  openTab,
  row,
  screenshot,
  startKiln,
  type Tab,
  waitForStatus,
} from "./harness.ts";

// Without Chromium: one named failure that says how to install it, instead of unnamed ones.
const { test, beforeAll, afterAll } = browserSuite();

let browser: Browser;
let kiln: Kiln;
let tab: Tab;

beforeAll(async () => {
  [browser, kiln] = await Promise.all([launchBrowser(), startKiln({ manager: { concurrency: 4 } })]);
  tab = await openTab(browser);
  await tab.page.goto(`${kiln.base}/dashboard`);
  await tab.page.locator(".connection-live").waitFor();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await kiln?.stop();
});

/** Shows only the tasks with this tag (the filter applies once typing pauses). */
async function filterByTag(page: Page, tag: string, ids: string[]): Promise<void> {
  await page.locator("#filter-tag").fill(tag);
  for (const id of ids) await row(page, id).waitFor();
  await page.waitForFunction(
    (count) => document.querySelectorAll("tr[data-task-id]").length === count,
    ids.length,
  );
}

const dialog = (page: Page) => page.locator("dialog.confirm");
const outcome = (page: Page) => page.locator(".bulk-outcome");

async function confirm(page: Page): Promise<void> {
  await dialog(page).locator("button[data-confirm]").click();
  await dialog(page).waitFor({ state: "detached" });
}

test("retry all FAILED asks first; Cancel changes nothing, confirming restarts each one", async () => {
  const { page } = tab;
  const ids = [
    await createTask(kiln, "e2e-stepper", { steps: 1, delayMs: 0, fail: true }, ["retry"]),
    await createTask(kiln, "e2e-stepper", { steps: 1, delayMs: 0, fail: true }, ["retry"]),
  ];
  const other = await createTask(kiln, "e2e-stepper", { steps: 1, delayMs: 0, fail: true });
  for (const id of [...ids, other]) await untilStatus(kiln.manager, id, ["FAILED"]);
  await filterByTag(page, "retry", ids);

  await page.locator('button[data-bulk="retry-failed"]').click();
  await dialog(page).waitFor();
  expect(await dialog(page).locator("h2").textContent()).toBe("Retry all FAILED tasks");
  expect(await dialog(page).locator("p").textContent()).toContain('every FAILED task with the tag "retry"');
  // A modal dialog: the page behind it cannot be clicked.
  expect(await dialog(page).evaluate((element) => (element as HTMLDialogElement).open)).toBe(true);
  await screenshot(page, "kiln-dashboard-bulk-confirm.png");
  await dialog(page).getByRole("button", { name: "Cancel" }).click();
  await dialog(page).waitFor({ state: "detached" });
  expect(await Promise.all(ids.map(async (id) => (await kiln.manager.require(id)).attempt))).toEqual([1, 1]);

  await page.locator('button[data-bulk="retry-failed"]').click();
  await confirm(page);
  await outcome(page).filter({ hasText: "Restarted 2 tasks." }).waitFor();
  for (const id of ids)
    await kiln.manager.waitFor(id, (task) => task.attempt === 2 && task.status === "FAILED");
  // Only the filter's tasks: the untagged one was left alone.
  expect((await kiln.manager.require(other)).attempt).toBe(1);
  expect(tab.errors).toEqual([]);
});

test("stop all running, then delete ended, for the tasks the filters match", async () => {
  const { page } = tab;
  const ids = [
    await createTask(kiln, "e2e-stepper", { steps: 500, delayMs: 100 }, ["sweep"]),
    await createTask(kiln, "e2e-stepper", { steps: 500, delayMs: 100 }, ["sweep"]),
  ];
  await filterByTag(page, "sweep", ids);
  for (const id of ids) await waitForStatus(page, id, "RUNNING");

  await page.locator('button[data-bulk="stop-running"]').click();
  await confirm(page);
  await outcome(page).filter({ hasText: "2 running tasks stop at their next checkpoint." }).waitFor();
  for (const id of ids) await waitForStatus(page, id, "STOPPED");

  await page.locator('button[data-bulk="delete-ended"]').click();
  expect(await dialog(page).locator("p").textContent()).toContain("cannot be undone");
  await confirm(page);
  await outcome(page).filter({ hasText: "Deleted 2 tasks." }).waitFor();
  await page.waitForFunction(() => document.querySelectorAll("tr[data-task-id]").length === 0);
  for (const id of ids) expect((await kiln.call(`/tasks/${id}`)).status).toBe(404);

  // With a live status in the filter, no ended task can match: the button says so and is off.
  await page.locator("#filter-status").selectOption("RUNNING");
  expect(await page.locator('button[data-bulk="delete-ended"]').isDisabled()).toBe(true);
  await page.locator("#filter-status").selectOption("");
  expect(tab.errors).toEqual([]);
});

test("the rows selected are paused, resumed and stopped together; one that cannot be is named", async () => {
  const { page } = tab;
  const live = [
    await createTask(kiln, "e2e-stepper", { steps: 500, delayMs: 100 }, ["pick"]),
    await createTask(kiln, "e2e-stepper", { steps: 500, delayMs: 100 }, ["pick"]),
  ];
  const done = await createTask(kiln, "e2e-stepper", { steps: 1, delayMs: 0 }, ["pick"]);
  await untilStatus(kiln.manager, done, ["FINISHED"]);
  await filterByTag(page, "pick", [...live, done]);
  for (const id of live) await waitForStatus(page, id, "RUNNING");

  for (const id of live) await row(page, id).locator(".select-col input").check();
  await page.locator(".selection-count", { hasText: "2 selected" }).waitFor();
  await page.locator('button[data-bulk="pause"]').click();
  expect(await dialog(page).locator("h2").textContent()).toBe("Pause 2 selected tasks");
  await confirm(page);
  await outcome(page).filter({ hasText: "2 running tasks pause at their next checkpoint." }).waitFor();
  for (const id of live) await waitForStatus(page, id, "PAUSED");
  // The selection is spent; the rows are unticked.
  expect(await page.locator(".selection-count").count()).toBe(0);

  await page.locator("thead .select-col input").check();
  await page.locator(".selection-count", { hasText: "3 selected" }).waitFor();
  await page.locator('button[data-bulk="resume"]').click();
  await confirm(page);
  await outcome(page)
    .filter({
      hasText:
        "Resumed 2 tasks; 1 refused (cannot resume a FINISHED task: only a PAUSED task can be resumed).",
    })
    .waitFor();
  for (const id of live) await waitForStatus(page, id, "RUNNING");

  await page.locator("thead .select-col input").check();
  await page.locator('button[data-bulk="stop"]').click();
  await confirm(page);
  await outcome(page)
    .filter({
      hasText:
        "2 running tasks stop at their next checkpoint; 1 refused (cannot stop a FINISHED task: it has already ended).",
    })
    .waitFor();
  for (const id of live) await waitForStatus(page, id, "STOPPED");
  const history = (await (await kiln.call(`/tasks/${live[0]}/events`)).json()) as {
    items: Array<{ action: string; actor: string | null; source: string | null }>;
  };
  expect(history.items.find((event) => event.action === "pause")).toMatchObject({
    actor: "anonymous",
    source: "127.0.0.1",
  });
  await screenshot(page, "kiln-dashboard-bulk-done.png");
  expect(tab.errors).toEqual([]);
});
