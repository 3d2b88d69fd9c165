// The nodes page in a real headless Chromium against a real kiln server (SQLite: one node): the
// node shows with its leader mark, heartbeat age and load, and a running task appears under it
// and leaves it when it ends; the task table and the task page name the node of a task that has one.
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
  [browser, kiln] = await Promise.all([
    launchBrowser(),
    startKiln({ manager: { nodeName: "e2e-node", concurrency: 3 } }),
  ]);
  tab = await openTab(browser);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await kiln?.stop();
});

test("the nodes page lists this node as leader, with a running task under it until it ends", async () => {
  const { page } = tab;
  await page.goto(`${kiln.base}/dashboard`);
  await page.locator(".connection-live").waitFor();
  await page.getByRole("link", { name: "Nodes" }).click();
  const card = page.locator(`article[data-node-id="${kiln.manager.node.id}"]`);
  await card.waitFor();
  expect(await card.locator(".node-title").textContent()).toContain("e2e-node");
  expect(await card.locator(".leader-mark").textContent()).toBe("leader");
  expect(await card.locator(".node-facts").textContent()).toContain(`pid ${process.pid}`);
  expect(await card.locator(".heartbeat-age").textContent()).toMatch(/^\d+(\.\d)? m?s ago$/);
  expect(await card.locator(".node-idle").textContent()).toBe("No task running.");

  // Started while the page is open: the event stream puts it under the node, the poll its load.
  const id = await createTask(kiln, "e2e-stepper", { steps: 400, delayMs: 100 });
  await untilStatus(kiln.manager, id, ["RUNNING"]);
  const item = card.locator(`.node-tasks li[data-task-id="${id}"]`);
  await item.waitFor();
  expect(await item.locator(".node-task-name").textContent()).toBe("e2e-stepper");
  await card.locator(".node-load", { hasText: "1 / 3 running" }).waitFor();
  await card.locator(".progress-text", { hasText: /step \d+ of 400/ }).waitFor();
  const shot = await screenshot(page, "dashboard-nodes.png");
  expect(shot.length).toBeGreaterThan(0);

  await item.locator("a").click();
  await page.locator(`section.detail[data-task-id="${id}"]`).waitFor();

  const stopped = await kiln.call(`/tasks/${id}/stop`, { method: "POST" });
  expect(stopped.status).toBe(202);
  await untilStatus(kiln.manager, id, ["STOPPED"]);
  await page.goto(`${kiln.base}/dashboard#/nodes`);
  await card.locator(".node-idle").waitFor();
  await card.locator(".node-load", { hasText: "0 / 3 running" }).waitFor();
  expect(tab.errors).toEqual([]);
}, 60_000);

test("a task with a node shows it in the table and on its page", async () => {
  // SQLite records no node on a task: a fresh tab gets the task JSON with one, as a server on
  // PostgreSQL would send it.
  const own = await openTab(browser);
  const { page } = own;
  const id = await createTask(kiln, "e2e-stepper", { steps: 400, delayMs: 100 });
  await untilStatus(kiln.manager, id, ["RUNNING"]);
  const node = "node-2/b71d22a4";
  await page.route(/\/tasks(\?|\/|$)/, async (route) => {
    try {
      const response = await route.fetch();
      const json = (await response.json()) as { id?: string; items?: Array<{ id: string }> };
      // Only this RUNNING task gets a node, as the server would give it.
      const withNode = (item: { id?: string }) => (item.id === id ? { ...item, node } : item);
      const body = json.items ? { ...json, items: json.items.map(withNode) } : withNode(json);
      await route.fulfill({ response, json: body });
    } catch {
      // The page went on before the answer came: nothing to rewrite.
    }
  });
  try {
    await page.goto(`${kiln.base}/dashboard#/`);
    const row = page.locator(`tr[data-task-id="${id}"]`);
    await row.locator(".run-node", { hasText: "on node-2" }).waitFor();
    expect(await row.locator(".task-node").getAttribute("title")).toBe(node);
    await screenshot(page, "dashboard-table-node.png");
    await row.locator(".id-col a").click();
    const detail = page.locator(`section.detail[data-task-id="${id}"]`);
    await detail.locator(".task-node", { hasText: node }).waitFor();
    await screenshot(page, "dashboard-task-node.png");
    expect(own.errors).toEqual([]);
  } finally {
    await own.context.close();
    await kiln.call(`/tasks/${id}/stop`, { method: "POST" });
    await untilStatus(kiln.manager, id, ["STOPPED"]);
  }
}, 60_000);
