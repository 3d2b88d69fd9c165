// The Swagger UI in a real headless Chromium, under kiln's security headers.
import { expect } from "bun:test";
import type { Browser } from "playwright-core";
import { browserSuite, type Kiln, launchBrowser, openTab, startKiln } from "./harness.ts";

const { test, beforeAll, afterAll } = browserSuite();

const TOKEN = "swagger-e2e-token";

let browser: Browser;
let kiln: Kiln;
beforeAll(async () => {
  [browser, kiln] = await Promise.all([launchBrowser(), startKiln({ token: TOKEN })]);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await kiln?.stop();
});

test("asks for the token, renders every operation and calls the API, under a CSP, with frames and sniffing forbidden", async () => {
  const { page, context, errors } = await openTab(browser);
  try {
    page.on("dialog", (dialog) => void dialog.accept(TOKEN));
    const response = await page.goto(`${kiln.base}/swagger`);
    expect(response?.headers()["x-frame-options"]).toBe("DENY");
    expect(response?.headers()["cross-origin-opener-policy"]).toBe("same-origin");
    // Scripts from kiln only; the page works under it (a blocked script or style is in `errors`).
    expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");
    await page.locator(".opblock").first().waitFor();
    const paths = await page.locator(".opblock-summary-path").allTextContents();
    expect(paths).toEqual(expect.arrayContaining(["/tasks", "/tasks/{id}/pause"]));
    // "Try it out" on GET /tasks: the UI sends the token and shows the server's 200.
    const list = page.locator('.opblock-get:has(.opblock-summary-path[data-path="/tasks"])');
    await list.locator(".opblock-summary-control").click();
    await list.locator("button.try-out__btn").click();
    await list.locator("button.execute").click();
    await list.locator(".live-responses-table .response-col_status", { hasText: "200" }).waitFor();

    // The example a reader sees for a task is typed as the API answers: numbers and objects.
    const read = page.locator('.opblock-get:has(.opblock-summary-path[data-path="/tasks/{id}"])');
    await read.locator(".opblock-summary-control").click();
    const example = read.locator(".responses-table .response[data-code='200'] .example code").first();
    const shown = JSON.parse((await example.textContent()) ?? "null") as Record<string, unknown>;
    expect(shown).toMatchObject({ attempt: 1, priority: 0, params: { from: 30 }, error: null });
    expect(typeof shown.result).toBe("object");
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
});
