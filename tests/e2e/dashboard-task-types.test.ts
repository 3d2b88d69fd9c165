// Pausing and resuming a task name from the dashboard's task-types page, in a real headless
// Chromium against a real kiln server: a task of the paused name waits PENDING with its reason
// in the task table, and starts once the name is resumed.
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

const typeRow = (page: Page, name: string) => page.locator(`tr[data-task-type="${name}"]`);
const said = (page: Page) => page.locator(".task-types .bulk-outcome");

async function openTaskTypes(page: Page): Promise<void> {
  await page.getByRole("link", { name: "Task types" }).click();
  await typeRow(page, "e2e-stepper").waitFor();
}

async function openList(page: Page, tag: string, id: string): Promise<void> {
  await page.locator("a.brand").click();
  await page.locator("#filter-tag").fill(tag);
  await row(page, id).waitFor();
}

test("a name paused from the dashboard holds its new task PENDING with the reason; Resume lets it run", async () => {
  const { page } = tab;
  await openTaskTypes(page);
  const stepper = typeRow(page, "e2e-stepper");
  expect(await stepper.locator(".task-type-state").textContent()).toContain("running normally");

  await stepper.getByRole("button", { name: "Pause", exact: true }).click();
  await said(page)
    .filter({ hasText: 'Paused "e2e-stepper": no new task of it starts until it is resumed.' })
    .waitFor();
  await stepper.locator(".task-type-state").filter({ hasText: "by anonymous" }).waitFor();
  expect((await kiln.manager.taskTypePauses()).map((pause) => pause.taskName)).toEqual(["e2e-stepper"]);
  await screenshot(page, "kiln-dashboard-task-types.png");

  const id = await createTask(kiln, "e2e-stepper", { steps: 1, delayMs: 0 }, ["held"]);
  await openList(page, "held", id);
  await waitForStatus(page, id, "PENDING");
  await row(page, id)
    .locator(".reason")
    .filter({ hasText: 'task name "e2e-stepper" is paused by anonymous' })
    .waitFor();
  // Still waiting a moment later: the pause holds it, not a slow start.
  await Bun.sleep(300);
  expect((await kiln.manager.require(id)).status).toBe("PENDING");

  await openTaskTypes(page);
  await stepper.getByRole("button", { name: "Resume" }).click();
  await said(page).filter({ hasText: 'Resumed "e2e-stepper".' }).waitFor();
  await stepper.locator(".task-type-state").filter({ hasText: "running normally" }).waitFor();
  await untilStatus(kiln.manager, id, ["FINISHED"]);
  await openList(page, "held", id);
  await waitForStatus(page, id, "FINISHED");
  expect(tab.errors).toEqual([]);
});

test("Pause with running pauses the running tasks of the name too; Resume resumes them", async () => {
  const { page } = tab;
  const id = await createTask(kiln, "e2e-stepper", { steps: 500, delayMs: 50 }, ["both"]);
  await untilStatus(kiln.manager, id, ["RUNNING"]);
  await openTaskTypes(page);
  const stepper = typeRow(page, "e2e-stepper");
  await stepper.getByRole("button", { name: "Pause with running" }).click();
  await said(page).filter({ hasText: "1 running task asked to pause" }).waitFor();
  await stepper.locator(".task-type-state").filter({ hasText: "running tasks paused too" }).waitFor();
  await untilStatus(kiln.manager, id, ["PAUSED"]);

  await stepper.getByRole("button", { name: "Resume" }).click();
  await said(page).filter({ hasText: 'Resumed "e2e-stepper".' }).waitFor();
  await untilStatus(kiln.manager, id, ["RUNNING", "FINISHED"]);
  await kiln.manager.stop(id);
  await untilStatus(kiln.manager, id, ["STOPPED", "FINISHED"]);
  expect(tab.errors).toEqual([]);
});
