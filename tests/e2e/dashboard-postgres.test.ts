// The dashboard in a real headless Chromium against a kiln server on PostgreSQL: a task created
// from the page's form, paused and resumed from its row.
import { describe, expect } from "bun:test";
import type { Browser } from "playwright-core";
import { makeStoreOptions, type StoreOptions } from "../stores.ts";
import {
  browserSuite,
  type Kiln,
  launchBrowser,
  openTab,
  recordedStatuses,
  recordStatuses,
  row,
  startKiln,
  type Tab,
  waitForStatus,
} from "./harness.ts";

const { test, beforeAll, afterAll } = browserSuite();

let browser: Browser;
let store: StoreOptions;
let kiln: Kiln;
let tab: Tab;

beforeAll(async () => {
  store = await makeStoreOptions("postgres");
  [browser, kiln] = await Promise.all([launchBrowser(), startKiln({ manager: store.options })]);
  tab = await openTab(browser);
  await tab.page.goto(`${kiln.base}/`);
  await tab.page.locator(".connection-live").waitFor();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await kiln?.stop();
  await store?.close();
});

describe("dashboard on PostgreSQL", () => {
  test("a task created from the form is paused and resumed from its row", async () => {
    const { page } = tab;
    await page.getByRole("button", { name: "New task" }).click();
    await page.locator("#new-task-name").selectOption("e2e-stepper");
    await page.locator("#param-steps").fill("200");
    await page.locator("#param-delayMs").fill("300");
    await page.getByRole("button", { name: "Create task" }).click();
    const created = page.locator(".new-task .success a");
    await created.waitFor();
    const id = decodeURIComponent((await created.getAttribute("href"))?.replace("#/tasks/", "") ?? "");
    expect(id).not.toBe("");
    await page.getByRole("button", { name: "Close" }).click();

    await waitForStatus(page, id, "RUNNING");
    await recordStatuses(page, id);
    await row(page, id).locator('button[data-action="pause"]').click();
    await waitForStatus(page, id, "PAUSED");
    expect(await recordedStatuses(page, id)).toContain("PAUSED");
    expect((await kiln.manager.require(id)).status).toBe("PAUSED");

    await row(page, id).locator('button[data-action="resume"]').click();
    await waitForStatus(page, id, "RUNNING");
    const task = await kiln.manager.require(id);
    expect(task.status).toBe("RUNNING");
    const history = (await (await kiln.call(`/tasks/${id}/events`)).json()) as {
      items: Array<{ to: string | null; action: string }>;
    };
    expect(history.items.map((event) => event.to ?? `${event.action} requested`)).toEqual([
      "PENDING",
      "RUNNING",
      "pause requested",
      "PAUSED",
      "PENDING",
      "RUNNING",
    ]);
    await kiln.call(`/tasks/${id}/stop?wait=5000`, { method: "POST" });
    expect(tab.errors).toEqual([]);
  }, 60_000);
});
