// The dashboard when the server shuts down: its event stream ends with a shutdown event, and
// the page says so instead of "live".
import { expect } from "bun:test";
import type { Browser } from "playwright-core";
import { browserSuite, type Kiln, launchBrowser, openTab, startKiln, type Tab, WAIT_MS } from "./harness.ts";

const { test, beforeAll, afterAll } = browserSuite();

let browser: Browser;
let kiln: Kiln;
let tab: Tab;
const shutdown = new AbortController();

beforeAll(async () => {
  [browser, kiln] = await Promise.all([launchBrowser(), startKiln({ shutdownSignal: shutdown.signal })]);
  tab = await openTab(browser);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await kiln?.stop();
});

test("a server shutdown ends the page's event stream, and the page shows it instead of live", async () => {
  const { page } = tab;
  await page.goto(`${kiln.base}/dashboard`);
  await page.locator(".connection-live").waitFor();

  // As `kiln serve` does: stop listening, then end the streams; the stop waits for nothing else.
  const stopped = kiln.stopListening();
  shutdown.abort();
  const outcome = await Promise.race([
    stopped.then(() => "stopped"),
    Bun.sleep(WAIT_MS).then(() => "still waiting for a connection"),
  ]);
  expect(outcome).toBe("stopped");

  const status = page.locator(".connection-shutdown");
  await status.waitFor();
  expect((await status.textContent())?.trim()).toBe("server shutting down · reconnecting…");
  // Reconnecting fails while the server is gone, and the page keeps saying why.
  await page.waitForTimeout(2_500);
  expect(await page.locator(".connection-shutdown").count()).toBe(1);
  expect(tab.errors).toEqual([]);
});
