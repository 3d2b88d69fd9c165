// The dashboard's finer points in a real headless Chromium against a real kiln server: stack
// traces, reasons and run-at times in the rows, opening a task by a prefix of its id, relative
// times, the form's own fields and its checkbox.
import { expect } from "bun:test";
import type { Browser } from "playwright-core";
import { newTaskRow, untilStatus } from "../helpers.ts";
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
  [browser, kiln] = await Promise.all([launchBrowser(), startKiln()]);
  tab = await openTab(browser);
  await tab.page.goto(`${kiln.base}/dashboard`);
  await tab.page.locator(".connection-live").waitFor();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await kiln?.stop();
});

const toList = () =>
  tab.page.evaluate(() => {
    location.hash = "#/";
  });

test("a failure's stack trace reads as lines, and its reason shows in the row", async () => {
  const { page } = tab;
  const id = await createTask(kiln, "e2e-stepper", { steps: 1, delayMs: 0, fail: true });
  await untilStatus(kiln.manager, id, ["FAILED"]);
  await waitForStatus(page, id, "FAILED");
  expect(await row(page, id).locator(".reason-failed").textContent()).toBe("gave up after step 1");

  await row(page, id).locator("a").first().click();
  const detail = page.locator(`section.detail[data-task-id="${id}"]`);
  await detail.locator("pre.stack").waitFor();
  expect(await detail.locator(".error-message").textContent()).toBe("Error: gave up after step 1");
  const stack = (await detail.locator("pre.stack").textContent()) ?? "";
  const lines = stack.split("\n");
  expect(lines[0]).toBe("Error: gave up after step 1");
  expect(lines[1]).toMatch(/^ {4}at .*fixtures\.ts:\d+:\d+\)?$/);
  expect(stack).not.toContain("\\n");
  // Rendered with its line breaks: the block is as many lines tall as the trace has lines.
  const box = await detail.locator("pre.stack").evaluate((pre) => ({
    height: pre.scrollHeight,
    line: Number.parseFloat(getComputedStyle(pre).lineHeight),
  }));
  expect(Math.round(box.height / box.line)).toBeGreaterThanOrEqual(lines.length);
  // The rest of the error stays JSON.
  expect(await detail.locator('pre.json[aria-label="Error details"]').textContent()).toContain(
    '"retryable": true',
  );
  await screenshot(page, "kiln-dashboard-stack.png");
  await toList();
  expect(tab.errors).toEqual([]);
});

test("Open takes the id the row shows, or any unique prefix; it says when a prefix is ambiguous", async () => {
  const { page } = tab;
  const id = await createTask(kiln, "e2e-stepper", { steps: 1, delayMs: 0 });
  await row(page, id).waitFor();
  const shown = (await row(page, id).locator(".id-prefix").textContent()) ?? "";
  expect(shown).toBe(id.slice(0, 18));
  // The ellipsis is drawn by CSS; a copy that brings one along works as well.
  await page.locator("#find-id").fill(`${shown}…`);
  await page.getByRole("button", { name: "Open" }).click();
  await page.waitForFunction((taskId) => location.hash === `#/tasks/${taskId}`, id);
  await page.locator(`section.detail[data-task-id="${id}"]`).waitFor();
  // A link that holds a prefix lands on the task under its whole id.
  await page.evaluate(
    (prefix) => {
      location.hash = `#/tasks/${prefix}`;
    },
    id.slice(0, 18),
  );
  await page.waitForFunction((taskId) => location.hash === `#/tasks/${taskId}`, id);
  await page.locator(`section.detail[data-task-id="${id}"] .timeline li`).first().waitFor();
  await toList();

  // Two ids that share their first characters, written straight into the store.
  for (const taskId of ["0190aaaa-0000-7000-8000-000000000001", "0190aaaa-0000-7000-8000-000000000002"]) {
    kiln.manager.store.createTask(newTaskRow({ id: taskId, taskName: "e2e-stepper", status: "PAUSED" }), {
      fromStatus: null,
      toStatus: "PAUSED",
      action: "create",
      reason: null,
      actor: null,
      source: null,
    });
  }
  const message = page.locator(".find .field-error");
  for (const [typed, said] of [
    ["0190aaaa", "2 tasks have an id that starts with 0190aaaa: type more of it."],
    ["0190a", "No task has the id 0190a; a prefix needs at least 6 characters."],
    ["0190aaab", "No task has an id that starts with 0190aaab."],
  ]) {
    await page.locator("#find-id").fill(typed as string);
    await page.getByRole("button", { name: "Open" }).click();
    await message.filter({ hasText: said as string }).waitFor();
  }
  await page.locator("#find-id").fill("0190aaaa-0000-7000-8000-000000000002");
  await page.getByRole("button", { name: "Open" }).click();
  await page.locator('section.detail[data-task-id="0190aaaa-0000-7000-8000-000000000002"]').waitFor();
  await toList();
  expect(tab.errors).toEqual([]);
});

test("times read relative, with the exact time on hover", async () => {
  const { page } = tab;
  const id = await createTask(kiln, "e2e-stepper", { steps: 1, delayMs: 0 });
  await untilStatus(kiln.manager, id, ["FINISHED"]);
  await waitForStatus(page, id, "FINISHED");
  const created = row(page, id).locator("td.time time").first();
  expect(await created.textContent()).toMatch(/^(just now|\d+ s ago)$/);
  expect(await created.getAttribute("title")).toMatch(
    /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} \(UTC[+-]\d{2}:\d{2}\)$/,
  );
  const exact = await created.evaluate((time) => {
    const iso = time.getAttribute("datetime") ?? "";
    const at = new Date(iso);
    const pad = (n: number, w = 2) => String(n).padStart(w, "0");
    return `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}.${pad(at.getMilliseconds(), 3)}`;
  });
  expect(await created.getAttribute("title")).toContain(exact);
  expect(await created.getAttribute("datetime")).toBe(
    new Date((await kiln.manager.require(id)).createdAt).toISOString(),
  );
  expect(tab.errors).toEqual([]);
});

test("the form's checkbox sits on its label's line; Run at and the idempotency key reach the task", async () => {
  const { page } = tab;
  await page.getByRole("button", { name: "New task" }).click();
  await page.locator("#new-task-name").selectOption("e2e-stepper");
  const box = await page.locator("#param-fail").boundingBox();
  const name = await page.locator("label.check span", { hasText: "fail" }).boundingBox();
  if (!box || !name) throw new Error("the checkbox or its name is not on screen");
  expect(box.width).toBeLessThanOrEqual(20);
  expect(box.x + box.width).toBeLessThan(name.x);
  expect(Math.abs(box.y + box.height / 2 - (name.y + name.height / 2))).toBeLessThan(4);

  await page.locator("#param-steps").fill("3");
  // Three hours from now in the browser's own time zone, as a datetime-local field holds it.
  const { local, iso } = await page.evaluate(() => {
    const at = new Date(Date.now() + 3 * 3_600_000);
    at.setSeconds(0, 0);
    const pad = (n: number) => String(n).padStart(2, "0");
    const value = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
    return { local: value, iso: at.toISOString() };
  });
  await page.locator("#new-task-run-at").fill(local);
  await page.locator("#new-task-key").fill("e2e-once");
  await page.getByRole("button", { name: "Create task" }).click();
  const created = page.locator(".new-task .success");
  await created.filter({ hasText: "Created" }).waitFor();
  expect((await created.textContent())?.trim()).toMatch(/^Created e2e-stepper [0-9a-f-]{36}\.$/);
  const id = decodeURIComponent(
    (await created.locator("a").getAttribute("href"))?.replace("#/tasks/", "") ?? "",
  );
  expect(await kiln.manager.require(id)).toMatchObject({
    runAt: Date.parse(iso),
    idempotencyKey: "e2e-once",
    status: "PENDING",
  });
  await row(page, id).waitFor();
  expect(await row(page, id).locator(".run-at").textContent()).toMatch(/^runs in 2 h$/);
  await screenshot(page, "kiln-dashboard-form.png");

  // The same key again: the server answers with the first task, and the form says so.
  await page.getByRole("button", { name: "Create task" }).click();
  await created.filter({ hasText: "exists already" }).waitFor();
  expect(await created.locator("a").getAttribute("href")).toBe(`#/tasks/${encodeURIComponent(id)}`);
  await page.getByRole("button", { name: "Close" }).click();
  await kiln.call(`/tasks/${id}/stop`, { method: "POST" });
  expect(tab.errors).toEqual([]);
});
