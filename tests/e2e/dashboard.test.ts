// The dashboard in a real headless Chromium against a real kiln server.
import { describe, expect } from "bun:test";
import type { Browser, Page } from "playwright-core";
import {
  browserSuite,
  createTask,
  type Kiln,
  launchBrowser,
  openTab,
  recordedStatuses,
  recordStatuses,
  row,
  screenshot,
  startKiln,
  type Tab,
  WAIT_MS,
  waitForStatus,
} from "./harness.ts";

const { test, beforeAll, afterAll } = browserSuite();

let browser: Browser;
let kiln: Kiln;
let tab: Tab;

beforeAll(async () => {
  [browser, kiln] = await Promise.all([launchBrowser(), startKiln()]);
  tab = await openTab(browser);
  await tab.page.goto(`${kiln.base}/`);
  await tab.page.locator(".connection-live").waitFor();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await kiln?.stop();
});

/** The row's progress as a number (aria-valuenow), or -1 without a bar yet. */
function progressOf(page: Page, id: string): Promise<number> {
  return page.evaluate((taskId) => {
    const bar = document.querySelector(`tr[data-task-id="${taskId}"] [role=progressbar]`);
    return Number(bar?.getAttribute("aria-valuenow") ?? -1);
  }, id);
}

async function waitForProgressAbove(page: Page, id: string, above: number): Promise<number> {
  await page.waitForFunction(
    ([taskId, floor]) =>
      Number(
        document
          .querySelector(`tr[data-task-id="${taskId}"] [role=progressbar]`)
          ?.getAttribute("aria-valuenow") ?? -1,
      ) > floor,
    [id, above] as const,
    { timeout: WAIT_MS },
  );
  return progressOf(page, id);
}

/** Marks the document: if the page reloads, the mark is gone. */
async function markDocument(page: Page): Promise<void> {
  await page.evaluate(() => {
    (window as unknown as { __sameDocument?: boolean }).__sameDocument = true;
  });
}

const sameDocument = (page: Page) =>
  page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument === true);

async function stopQuietly(id: string): Promise<void> {
  await kiln.call(`/tasks/${id}/stop?wait=5000`, { method: "POST" });
}

describe("dashboard", () => {
  test("/ leads to the page; the form creates a task that appears and advances without a reload", async () => {
    const { page } = tab;
    expect(new URL(page.url()).pathname).toBe("/dashboard");
    await markDocument(page);

    await page.getByRole("button", { name: "New task" }).click();
    await page.locator("#new-task-name").selectOption("e2e-stepper");
    // Left empty, the required field gets the schema's error next to it.
    await page.getByRole("button", { name: "Create task" }).click();
    const stepsError = page.locator(".form-field.has-error", { has: page.locator("#param-steps") });
    await stepsError.locator(".field-error").waitFor();
    expect(await stepsError.locator(".field-error").textContent()).toContain("required");
    await page.locator("#param-steps").fill("0");
    await page.getByRole("button", { name: "Create task" }).click();
    await page.waitForFunction(() =>
      /greater or equal to 1/.test(
        document.querySelector(".form-field.has-error .field-error")?.textContent ?? "no error shown",
      ),
    );

    await page.locator("#param-steps").fill("60");
    await page.locator("#param-delayMs").fill("150");
    await page.locator("#new-task-tags").fill("from-form");
    await page.getByRole("button", { name: "Create task" }).click();
    const created = page.locator(".new-task .success a");
    await created.waitFor();
    const id = decodeURIComponent((await created.getAttribute("href"))?.replace("#/tasks/", "") ?? "");
    expect(id).not.toBe("");

    await row(page, id).waitFor();
    expect(await row(page, id).locator(".tag").textContent()).toBe("from-form");
    const first = await waitForProgressAbove(page, id, 0);
    const later = await waitForProgressAbove(page, id, first);
    expect(later).toBeGreaterThan(first);
    expect(await row(page, id).locator(".progress-text").textContent()).toMatch(/%.*step \d+ of 60/);
    await screenshot(page, "dashboard-new-task.png");
    expect(await sameDocument(page)).toBe(true);

    await page.getByRole("button", { name: "Close" }).click();
    await stopQuietly(id);
    expect(tab.errors).toEqual([]);
  });

  test("pause shows pausing… then PAUSED; resume, stop and restart follow from the row", async () => {
    const { page } = tab;
    await markDocument(page);
    // Steps of a second, and each click right after a step began: the request then waits most of
    // a second for the next checkpoint, so "pausing…" is on screen for a good while.
    const id = await createTask(kiln, "e2e-stepper", { steps: 500, delayMs: 1_000 });
    await waitForStatus(page, id, "RUNNING");
    await recordStatuses(page, id);
    const buttons = () =>
      row(page, id)
        .locator("button[data-action]")
        .evaluateAll((all) => all.map((button) => button.getAttribute("data-action")));
    expect(await buttons()).toEqual(["pause", "stop", "restart"]);

    await waitForProgressAbove(page, id, await progressOf(page, id));
    await row(page, id).locator('button[data-action="pause"]').click();
    await waitForStatus(page, id, "PAUSED");
    const paused = await recordedStatuses(page, id);
    expect(paused.indexOf("pausing…")).toBeGreaterThan(-1);
    expect(paused.indexOf("pausing…")).toBeLessThan(paused.lastIndexOf("PAUSED"));
    expect(await buttons()).toEqual(["resume", "stop", "restart"]);
    await screenshot(page, "dashboard-paused.png");

    await row(page, id).locator('button[data-action="resume"]').click();
    await waitForStatus(page, id, "RUNNING");

    await waitForProgressAbove(page, id, await progressOf(page, id));
    await row(page, id).locator('button[data-action="stop"]').click();
    await waitForStatus(page, id, "STOPPED");
    const stopped = await recordedStatuses(page, id);
    expect(stopped.slice(stopped.lastIndexOf("RUNNING"))).toEqual(["RUNNING", "stopping…", "STOPPED"]);
    expect(await buttons()).toEqual(["restart", "delete"]);

    await row(page, id).locator('button[data-action="restart"]').click();
    await waitForStatus(page, id, "RUNNING");
    expect((await row(page, id).locator("td.attempt").textContent())?.trim()).toBe("2");

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
      "stop requested",
      "STOPPED",
      "PENDING",
      "RUNNING",
    ]);
    expect(await sameDocument(page)).toBe(true);
    await stopQuietly(id);
    expect(tab.errors).toEqual([]);
  });

  test("the detail view shows the history and follows the log live", async () => {
    const { page } = tab;
    await markDocument(page);
    const id = await createTask(kiln, "e2e-stepper", { steps: 500, delayMs: 250 }, ["detail"]);
    await waitForStatus(page, id, "RUNNING");
    await row(page, id).locator("a").first().click();

    const detail = page.locator(`section.detail[data-task-id="${id}"]`);
    await detail.waitFor();
    await detail.locator(".timeline li", { hasText: "PENDING → RUNNING" }).waitFor();
    expect(await detail.locator(".timeline li").first().textContent()).toContain("created as PENDING");
    expect(await detail.locator("pre.json").first().textContent()).toContain('"steps": 500');

    await detail.locator(".log-line").first().waitFor();
    const lines = await detail.locator(".log-line").count();
    // The next step's line arrives over the event stream while the view is open.
    await detail.locator(".log-line", { hasText: `step ${lines + 2} of 500` }).waitFor();
    expect(await detail.locator(".log-line").count()).toBeGreaterThan(lines);
    await screenshot(page, "dashboard-detail.png");

    await detail.locator('button[data-action="stop"]').click();
    await detail.locator(".timeline li", { hasText: "RUNNING → STOPPED" }).waitFor();
    await detail.locator(".timeline li.request", { hasText: "stop requested" }).waitFor();
    // The browser's stop is recorded as asked by this (tokenless) server's caller, from its address.
    expect(
      await detail.locator(".timeline li", { hasText: "RUNNING → STOPPED" }).locator(".muted").textContent(),
    ).toBe("stop by anonymous from 127.0.0.1");
    expect(await detail.locator(".status").textContent()).toBe("STOPPED");

    await detail.locator('button[data-action="delete"]').click();
    await detail.locator('button[data-action="delete"]', { hasText: "Confirm delete" }).click();
    await page.waitForFunction(() => location.hash === "#/");
    expect((await kiln.call(`/tasks/${id}`)).status).toBe(404);
    await page.waitForFunction((taskId) => !document.querySelector(`tr[data-task-id="${taskId}"]`), id);
    expect(await sameDocument(page)).toBe(true);
    expect(tab.errors).toEqual([]);
  });

  test("markup in a log line or an error is shown as text and runs nothing", async () => {
    const { page } = tab;
    const id = await createTask(kiln, "e2e-hostile", { holdMs: 500 });
    await page.evaluate((taskId) => {
      location.hash = `#/tasks/${encodeURIComponent(taskId)}`;
    }, id);
    const detail = page.locator(`section.detail[data-task-id="${id}"]`);
    await detail.locator(".log-line .message", { hasText: "<script>window.__pwned = 1</script>" }).waitFor();
    await detail
      .locator(".log-line .message", { hasText: '<img src="x" onerror="window.__pwned = 2">' })
      .waitFor();
    await detail
      .locator(".error-message", { hasText: '<img src="x" onerror="window.__pwned = 3"> broke' })
      .waitFor();
    expect(await detail.locator(".status").textContent()).toBe("FAILED");

    const injected = await page.evaluate(() => ({
      pwned: (window as unknown as { __pwned?: number }).__pwned ?? null,
      scripts: document.querySelectorAll("#app script").length,
      images: document.querySelectorAll("#app img").length,
    }));
    expect(injected).toEqual({ pwned: null, scripts: 0, images: 0 });
    await screenshot(page, "dashboard-escaped.png");
    await page.evaluate(() => {
      location.hash = "#/";
    });
    expect(tab.errors).toEqual([]);
  });
});

describe("dashboard with a token", () => {
  const TOKEN = "e2e-secret-token";
  const READ = "e2e-read-token";
  let secured: Kiln;
  let tokenTab: Tab;

  beforeAll(async () => {
    secured = await startKiln({ token: TOKEN, readTokens: [READ] });
    tokenTab = await openTab(browser);
  }, 60_000);

  afterAll(async () => {
    await tokenTab?.context.close();
    await secured?.stop();
  });

  test("asks for the token, says clearly when it is wrong, and works once it is right", async () => {
    const { page } = tokenTab;
    const id = await createTask(secured, "e2e-stepper", { steps: 400, delayMs: 200 });
    await page.goto(`${secured.base}/dashboard`);
    const gate = page.locator(".gate-message");
    await gate.waitFor();
    expect(await gate.textContent()).toContain("needs an API token");

    await page.getByLabel("API token").fill("not-the-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator(".gate-message", { hasText: "refused that token" }).waitFor();
    await screenshot(page, "dashboard-token-refused.png");

    await page.getByLabel("API token").fill(TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    // The event stream carries the token too: the row goes live.
    await page.locator(".connection-live").waitFor();
    await waitForStatus(page, id, "RUNNING");
    await row(page, id).locator('button[data-action="stop"]').click();
    await waitForStatus(page, id, "STOPPED");
    await page.locator(".summary .card-stopped .card-value", { hasText: "1" }).waitFor();

    // Once entered, the token is kept for the tab: a reload goes straight to the dashboard.
    await page.reload();
    await page.locator(".connection-live").waitFor();
    expect(await page.locator(".gate-message").count()).toBe(0);
    expect(tokenTab.errors).toEqual([]);
  });

  test("with a read-only token it shows tasks live; an action shows the server's 403 and changes nothing", async () => {
    const readTab = await openTab(browser);
    try {
      const { page } = readTab;
      const id = await createTask(secured, "e2e-stepper", { steps: 400, delayMs: 200 });
      await page.goto(`${secured.base}/dashboard`);
      await page.getByLabel("API token").fill(READ);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.locator(".connection-live").waitFor();
      await waitForStatus(page, id, "RUNNING");
      await row(page, id).locator('button[data-action="pause"]').click();
      const alert = row(page, id).locator('[role="alert"]');
      await alert.waitFor();
      expect(await alert.textContent()).toContain('the token "read-1" is read-only');
      expect(await secured.manager.require(id)).toMatchObject({ status: "RUNNING", requestedAction: null });
      expect(readTab.errors).toEqual([]);
    } finally {
      await readTab.context.close();
    }
  });
});

describe("dashboard under a host app's prefix", () => {
  let hosted: Kiln;
  let hostedTab: Tab;

  beforeAll(async () => {
    hosted = await startKiln({ prefix: "/ops" });
    hostedTab = await openTab(browser);
  }, 60_000);

  afterAll(async () => {
    await hostedTab?.context.close();
    await hosted?.stop();
  });

  test("loads its bundle, the API and the event stream from under the prefix", async () => {
    const { page } = hostedTab;
    const id = await createTask(hosted, "e2e-stepper", { steps: 400, delayMs: 100 });
    await page.goto(`${hosted.base}/dashboard`);
    await page.locator(".connection-live").waitFor();
    await waitForStatus(page, id, "RUNNING");
    await row(page, id).locator('button[data-action="stop"]').click();
    await waitForStatus(page, id, "STOPPED");
    expect(await page.locator('a[href="swagger"]').evaluate((link) => (link as HTMLAnchorElement).href)).toBe(
      `${hosted.base}/swagger`,
    );
    expect(hostedTab.errors).toEqual([]);
  });
});
