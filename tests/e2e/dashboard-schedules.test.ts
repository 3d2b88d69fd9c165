// The schedules page in a real headless Chromium against a real kiln server: a schedule added
// through the form shows with its timing in words and its next runs; invalid input shows the
// server's message; pause, resume and trigger act, and the triggered task opens.
import { expect } from "bun:test";
import type { Browser } from "playwright-core";
import type { TaskJson } from "../../src/http/index.ts";
import type { ScheduleJson } from "../../src/http/schedule-schemas.ts";
import { untilStatus } from "../helpers.ts";
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

let browser: Browser;
let kiln: Kiln;
let tab: Tab;

beforeAll(async () => {
  [browser, kiln] = await Promise.all([launchBrowser(), startKiln()]);
  tab = await openTab(browser);
  await tab.page.goto(`${kiln.base}/dashboard#/schedules`);
  await tab.page.locator(".connection-live").waitFor();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await kiln?.stop();
});

test("add a schedule through the form, trigger it, and open its task", async () => {
  const { page } = tab;
  const form = page.getByRole("form", { name: "New schedule" });
  await form.locator("#schedule-name").selectOption("echo");

  // A bad expression: the server's message, and nothing created.
  await form.locator("#schedule-cron").fill("61 3 * * *");
  await form.getByRole("button", { name: "Create schedule" }).click();
  await expect(form.getByRole("alert").textContent()).resolves.toContain("minute 61 is out of range 0-59");

  await form.locator("#schedule-cron").fill("0 3 * * *");
  await form.locator("#schedule-timezone").fill("Europe/Berlin");
  await form.locator("#schedule-params").fill('{"value": 42}');
  await form.getByRole("button", { name: "Create schedule" }).click();

  const row = page.locator("tr[data-schedule-id]");
  await row.waitFor();
  const id = (await row.getAttribute("data-schedule-id")) as string;
  expect(await row.locator(".schedule-words").textContent()).toBe("every day at 03:00 (Europe/Berlin)");
  expect(await row.locator(".next-runs div").count()).toBe(3);
  expect(await row.locator(".last-runs").textContent()).toContain("none yet");
  const stored = (await (await kiln.call(`/schedules/${id}`)).json()) as { schedule: ScheduleJson };
  expect(stored.schedule).toMatchObject({
    name: "echo",
    cron: "0 3 * * *",
    timezone: "Europe/Berlin",
    params: { value: 42 },
  });

  await row.getByRole("button", { name: "Pause" }).click();
  await row.locator(".next-runs .muted").waitFor();
  await row.getByRole("button", { name: "Resume" }).click();
  await row.locator(".next-runs div").first().waitFor();

  await row.getByRole("button", { name: "Trigger" }).click();
  const link = page.locator(".triggered a");
  await link.waitFor();
  const taskId = (await link.textContent()) as string;
  const task = (await (await kiln.call(`/tasks/${taskId}`)).json()) as TaskJson;
  expect(task).toMatchObject({ name: "echo", params: { value: 42 } });
  await untilStatus(kiln.manager, taskId, ["FINISHED"]);
  // The row's last runs carry the fire with its task's status (the page refreshes by itself).
  await row.locator(".last-runs a", { hasText: "FINISHED" }).waitFor();

  await screenshot(page, "dashboard-schedules.png");
  await link.click();
  await page.locator(`section.detail[data-task-id="${taskId}"]`).waitFor();
  expect(tab.errors).toEqual([]);
}, 60_000);
