// The schedules page in a real headless Chromium against a real kiln server: a schedule added
// through the form shows with its timing in words and its next runs; invalid input shows the
// server's message; pause, resume and trigger act, and the triggered task opens. A task name
// with a params schema gets one field per param, typed, with the server's issues beside them.
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
  // echo's one param has no type of its own: a JSON field.
  await form.locator("#param-value").fill("42");
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

test("a task name with a params schema: its fields, typed params, and the server's issue beside its field", async () => {
  const { page } = tab;
  // The test before ends on a task's page.
  await page.goto(`${kiln.base}/dashboard#/schedules`);
  const form = page.getByRole("form", { name: "New schedule" });
  // A schema that names no fields: the params are one JSON document, read before sending.
  await form.locator("#schedule-name").selectOption("bad-result");
  await form.locator("#param-params").fill("{nope");
  await form.getByRole("button", { name: "Create schedule" }).click();
  expect(await form.locator(".field-error").textContent()).toBe("is not valid JSON");

  await form.locator("#schedule-name").selectOption("e2e-stepper");
  const params = form.getByRole("group", { name: "Parameters" });
  await params.locator("#param-steps").waitFor();
  expect(await params.locator("#param-params").count()).toBe(0);
  expect(await params.locator("#param-delayMs").getAttribute("placeholder")).toBe("default: 200");

  await form.locator("#schedule-cron").fill("30 4 * * 1");
  await params.locator("#param-steps").fill("0");
  await form.getByRole("button", { name: "Create schedule" }).click();
  const stepsError = params.locator(".form-field.has-error .field-error");
  await stepsError.waitFor();
  expect(await stepsError.textContent()).toBe("Expected integer to be greater or equal to 1");
  expect(await params.locator("#param-steps").getAttribute("aria-invalid")).toBe("true");
  expect(await form.locator("p.error").textContent()).toContain(
    'params of "e2e-stepper" do not match its schema',
  );
  await screenshot(page, "dashboard-schedule-form-error.png");
  const named = async () => {
    const { items } = (await (await kiln.call("/schedules")).json()) as { items: ScheduleJson[] };
    return items.filter((schedule) => schedule.name === "e2e-stepper");
  };
  expect(await named()).toEqual([]);

  await params.locator("#param-steps").fill("7");
  await params.locator("#param-delayMs").fill("250");
  await params.getByLabel("fail").check();
  await form.getByRole("button", { name: "Create schedule" }).click();
  await page.locator("tr[data-schedule-id]", { hasText: "e2e-stepper" }).waitFor();
  expect(await form.locator(".field-error").count()).toBe(0);
  const [created] = await named();
  expect(created).toMatchObject({ cron: "30 4 * * 1", params: { steps: 7, delayMs: 250, fail: true } });
  expect(tab.errors).toEqual([]);
}, 60_000);
