// The summary's workers card in a real headless Chromium: a paused task that keeps its worker is
// counted as parked, apart from the busy workers, which never exceed the concurrency.
import { describe, expect } from "bun:test";
import type { Browser } from "playwright-core";
import { untilStatus } from "../helpers.ts";
import {
  browserSuite,
  createTask,
  type Kiln,
  launchBrowser,
  openTab,
  startKiln,
  type Tab,
} from "./harness.ts";

// Without Chromium: one named failure that says how to install it, instead of unnamed ones.
const { test, beforeAll, afterAll } = browserSuite();

const ENDLESS = { steps: 1_000_000, delayMs: 20 };
const CARD = ".summary .card";

let browser: Browser;
let kiln: Kiln;
let tab: Tab;

beforeAll(async () => {
  [browser, kiln] = await Promise.all([launchBrowser(), startKiln({ manager: { concurrency: 2 } })]);
  tab = await openTab(browser);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await kiln?.stop();
});

/** The value the workers card shows now. */
function workersCard(): Promise<string | null> {
  return tab.page
    .locator(CARD, { hasText: "workers busy / idle / parked" })
    .locator(".card-value")
    .textContent();
}

describe("workers card", () => {
  test("shows busy / idle / parked with a paused task parked on its worker", async () => {
    const first = await createTask(kiln, "steps", ENDLESS);
    const second = await createTask(kiln, "steps", ENDLESS);
    await untilStatus(kiln.manager, first, ["RUNNING"]);
    await untilStatus(kiln.manager, second, ["RUNNING"]);
    const paused = await kiln.call(`/tasks/${first}/pause?wait=10000`, { method: "POST" });
    expect(paused.status).toBe(200);
    const third = await createTask(kiln, "steps", ENDLESS);
    await untilStatus(kiln.manager, third, ["RUNNING"]);

    const { page } = tab;
    await page.goto(`${kiln.base}/dashboard`);
    await page.locator(".connection-live").waitFor();
    // Two running on two workers, none idle, one held by the paused task (once read as "3 / 0").
    await page
      .locator(CARD, { hasText: "workers busy / idle / parked" })
      .locator(".card-value", { hasText: "2 / 0 / 1" })
      .waitFor();
    expect(await workersCard()).toBe("2 / 0 / 1");
    expect(tab.errors).toEqual([]);
  });
});
