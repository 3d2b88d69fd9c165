// A task's parent and children on the dashboard, in a real headless Chromium against a real kiln
// server: a parent waiting for its children (fan-out then waitFor) shows them, linked, and how
// many have ended, following the event stream until all have; a child links back to its parent.
import { expect } from "bun:test";
import type { Browser } from "playwright-core";
import { untilStatus } from "../helpers.ts";
import {
  browserSuite,
  createTask,
  type Kiln,
  launchBrowser,
  openTab,
  screenshot,
  startKiln,
  type Tab,
} from "./harness.ts";

const { test, beforeAll, afterAll } = browserSuite();

let browser: Browser;
let kiln: Kiln;
let tab: Tab;

beforeAll(async () => {
  [browser, kiln] = await Promise.all([launchBrowser(), startKiln()]);
  tab = await openTab(browser);
  await tab.page.goto(`${kiln.base}/dashboard`);
  await tab.page.locator(".connection-live").waitFor();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await kiln?.stop();
});

test("a waiting parent lists its children and the tree's progress; a child links to its parent", async () => {
  const { page } = tab;
  const id = await createTask(kiln, "fan-out", { count: 4, childMs: 1_500 });
  await kiln.manager.waitFor(id, (task) => task.awaiting === "children", 20_000);
  await page.evaluate((hash) => {
    location.hash = hash;
  }, `#/tasks/${id}`);
  const detail = page.locator(`section.detail[data-task-id="${id}"]`);
  const family = detail.locator('section[aria-label="Parent and children"]');
  await family.waitFor();
  await family.locator(".family-children li").nth(3).waitFor();
  expect(await family.locator(".family-children li").count()).toBe(4);
  expect(await family.locator(".family-count").textContent()).toMatch(/^[0-3] of 4 children ended$/);
  expect(await family.textContent()).toContain("Waiting (waitFor) for 4 of them to end.");
  expect(await family.locator('[role="progressbar"]').count()).toBe(1);
  await screenshot(page, "kiln-dashboard-fan-in.png");

  // The page follows the children until every one has ended, and the parent has resumed.
  await untilStatus(kiln.manager, id, ["FINISHED"], 30_000);
  await family.locator(".family-count", { hasText: "4 of 4 children ended" }).waitFor({ timeout: 10_000 });
  expect(await family.locator(".family-counts").textContent()).toContain("4 finished");
  await detail.locator(".status", { hasText: "FINISHED" }).first().waitFor();

  const childId = (await family.locator(".family-children li a code").first().textContent()) ?? "";
  await family.locator(".family-children li a").first().click();
  const child = page.locator(`section.detail[data-task-id="${childId}"]`);
  const parentLink = child.locator(".family .parent-link");
  await parentLink.waitFor();
  expect(await parentLink.textContent()).toBe(id);
  // A child spawns nothing: no children list on its page.
  expect(await child.locator(".family-children").count()).toBe(0);
  await parentLink.click();
  await page.locator(`section.detail[data-task-id="${id}"]`).waitFor();
  expect(tab.errors).toEqual([]);
});
