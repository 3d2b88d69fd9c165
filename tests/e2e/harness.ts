import { afterAll, beforeAll, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Elysia } from "elysia";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { CHROMIUM_COMMAND, findChromium, INSTALL_HINT } from "../../scripts/chromium.ts";
import { createKilnApp, kilnRoutes } from "../../src/http/index.ts";
import type { TaskManagerOptions } from "../../src/index.ts";
import { startManager, tempDir } from "../helpers.ts";

/** The system Chromium the browser tests drive (`bun run test` installs it where it can). */
export const CHROMIUM = findChromium();
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** How long a browser-side wait may take on a loaded CI machine before the test fails. */
export const WAIT_MS = 20_000;

export const ARTIFACTS = new URL("../artifacts/", import.meta.url).pathname;

export function launchBrowser(): Promise<Browser> {
  if (CHROMIUM === null) throw new Error(`no "${CHROMIUM_COMMAND}" on PATH`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/**
 * `test`, `beforeAll` and `afterAll` for a file whose tests need the browser. Without Chromium
 * the file fails with one test named for it that says how to install it, and its own tests are
 * skipped: they could not start. (A set-up hook that threw would be reported without a name.)
 */
export function browserSuite() {
  if (CHROMIUM !== null) return { test, beforeAll, afterAll };
  test(`the browser tests need Chromium ("${CHROMIUM_COMMAND}" on PATH)`, () => {
    throw new Error(`Chromium is not installed (no "${CHROMIUM_COMMAND}" on PATH): ${INSTALL_HINT}`);
  });
  const nothing = () => {};
  return { test: test.skipIf(true), beforeAll: nothing, afterAll: nothing };
}

export interface Kiln {
  base: string;
  manager: Awaited<ReturnType<typeof startManager>>["manager"];
  dbPath: string;
  /** fetch against the server with the token (if any) and a JSON body when `json` is given. */
  call: (path: string, init?: RequestInit & { json?: unknown }) => Promise<Response>;
  /** Stops the HTTP server as `kiln serve` does: no new connections, waiting for open ones to end. */
  stopListening: () => Promise<void>;
  stop: () => Promise<void>;
}

export interface KilnOptions {
  token?: string;
  /** Read-only tokens beside `token`; `call` always sends `token`. */
  readTokens?: string[];
  manager?: Partial<TaskManagerOptions>;
  /** Writes to the database file before the manager opens it. */
  seed?: (dbPath: string) => void;
  /** Mount kiln's routes in a host app under this path (e.g. "/ops") instead of the standalone app. */
  prefix?: string;
  /** kiln's HTTP option: aborting it ends every open event stream with a shutdown event. */
  shutdownSignal?: AbortSignal;
}

/** A real manager (test fixtures and the e2e tasks loaded) behind a real HTTP server on 127.0.0.1. */
export async function startKiln(options: KilnOptions = {}): Promise<Kiln> {
  const dir = tempDir("kiln-e2e-");
  const dbPath = join(dir.path, "kiln.db");
  options.seed?.(dbPath);
  const env = await startManager(
    { concurrency: 2, stopGraceMs: 2_000, shutdownGraceMs: 500, ...options.manager },
    dir,
  );
  await env.manager.load(new URL("./fixtures.ts", import.meta.url));
  const http = {
    ...(options.token ? { token: options.token, readTokens: options.readTokens } : {}),
    ...(options.shutdownSignal ? { shutdownSignal: options.shutdownSignal } : {}),
  };
  const { prefix } = options;
  const app = (
    prefix
      ? new Elysia().group(prefix, (group) => group.use(kilnRoutes(env.manager, http)))
      : createKilnApp(env.manager, http)
  ).listen({ hostname: "127.0.0.1", port: 0 });
  const port = app.server?.port;
  if (!port) throw new Error("the test server did not start");
  const base = `http://127.0.0.1:${port}${prefix ?? ""}`;
  const call = (path: string, init: RequestInit & { json?: unknown } = {}) => {
    const { json, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (options.token) headers.set("authorization", `Bearer ${options.token}`);
    if (json === undefined) return fetch(base + path, { ...rest, headers });
    headers.set("content-type", "application/json");
    return fetch(base + path, { method: "POST", ...rest, headers, body: JSON.stringify(json) });
  };
  return {
    base,
    manager: env.manager,
    dbPath,
    call,
    stopListening: async () => {
      await app.server?.stop();
    },
    stop: async () => {
      await app.server?.stop(true);
      await env.close();
    },
  };
}

/** Creates a task through the API and returns its id. */
export async function createTask(
  kiln: Kiln,
  name: string,
  params: unknown,
  tags?: string[],
): Promise<string> {
  const response = await kiln.call("/tasks", { json: { name, params, ...(tags ? { tags } : {}) } });
  if (response.status !== 201)
    throw new Error(`POST /tasks answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}

export interface Tab {
  context: BrowserContext;
  page: Page;
  /** Uncaught errors of the page's scripts and CSP refusals; a test ends by checking there were none. */
  errors: string[];
}

/** A fresh browser context (its own session storage) with one page. */
export async function openTab(browser: Browser): Promise<Tab> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 950 } });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  // The page's own Content-Security-Policy must never block the page itself.
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy|Refused to/i.test(message.text())) {
      errors.push(message.text());
    }
  });
  return { context, page, errors };
}

export function screenshot(page: Page, name: string): Promise<Buffer> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
}

/** The table row of a task. */
export const row = (page: Page, id: string) => page.locator(`tr[data-task-id="${id}"]`);

/**
 * Records every text a row's status badge shows, from inside the page, so a state that lasts
 * a few milliseconds ("pausing…") is seen however slowly the test polls.
 */
export async function recordStatuses(page: Page, id: string): Promise<void> {
  await page.evaluate((taskId) => {
    const seen: string[] = [];
    const scope = window as unknown as { __statuses?: Record<string, string[]> };
    scope.__statuses ??= {};
    scope.__statuses[taskId] = seen;
    const look = () => {
      const text = document.querySelector(`tr[data-task-id="${taskId}"] .status`)?.textContent?.trim();
      if (text && seen.at(-1) !== text) seen.push(text);
    };
    look();
    new MutationObserver(look).observe(document.body, {
      subtree: true,
      childList: true,
      characterData: true,
    });
  }, id);
}

export function recordedStatuses(page: Page, id: string): Promise<string[]> {
  return page.evaluate(
    (taskId) => (window as unknown as { __statuses?: Record<string, string[]> }).__statuses?.[taskId] ?? [],
    id,
  );
}

/** Waits until the row's status badge reads `text`. */
export async function waitForStatus(page: Page, id: string, text: string): Promise<void> {
  await page.waitForFunction(
    ([taskId, wanted]) =>
      document.querySelector(`tr[data-task-id="${taskId}"] .status`)?.textContent?.trim() === wanted,
    [id, text] as const,
    { timeout: WAIT_MS },
  );
}
