// The dashboard's routes over HTTP, without a browser: page, assets, redirects and GET /stats.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { untilStatus } from "../helpers.ts";
import { createTask, type Kiln, startKiln } from "./harness.ts";

const TOKEN = "routes-token";

let kiln: Kiln;
let secured: Kiln;

beforeAll(async () => {
  [kiln, secured] = await Promise.all([startKiln(), startKiln({ token: TOKEN })]);
});

afterAll(async () => {
  await Promise.all([kiln?.stop(), secured?.stop()]);
});

/** The asset URLs the page names, resolved the way a browser resolves them. */
async function assetUrls(pageUrl: string): Promise<string[]> {
  const html = await (await fetch(pageUrl)).text();
  return [...html.matchAll(/(?:src|href)="(dashboard\/assets\/[^"]+)"/g)].map(
    (match) => new URL(match[1] ?? "", pageUrl).href,
  );
}

describe("the page and its assets", () => {
  test("/ redirects to the dashboard, and /dashboard/ to /dashboard", async () => {
    const root = await fetch(`${kiln.base}/`, { redirect: "manual" });
    expect(root.status).toBe(302);
    expect(new URL(root.headers.get("location") ?? "", `${kiln.base}/`).pathname).toBe("/dashboard");
    const slash = await fetch(`${kiln.base}/dashboard/`, { redirect: "manual" });
    expect(slash.status).toBe(308);
    expect(new URL(slash.headers.get("location") ?? "", `${kiln.base}/dashboard/`).pathname).toBe(
      "/dashboard",
    );
  });

  test("the page forbids inline scripts and loads its bundle from this server", async () => {
    const page = await fetch(`${kiln.base}/dashboard`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    const urls = await assetUrls(`${kiln.base}/dashboard`);
    expect(urls.map((url) => new URL(url).pathname).sort()).toEqual([
      "/dashboard/assets/app.css",
      "/dashboard/assets/app.js",
      "/dashboard/assets/favicon.svg",
    ]);
    for (const url of urls) {
      const asset = await fetch(url);
      expect(asset.status).toBe(200);
      expect(asset.headers.get("cache-control")).toContain("immutable");
      const text = await asset.text();
      if (url.includes("favicon")) {
        // The icon is served from the executable too: no request leaves the server, no 404 in the log.
        expect(asset.headers.get("content-type")).toBe("image/svg+xml");
        expect(text).toStartWith("<svg ");
      } else {
        expect(text.length).toBeGreaterThan(1_000);
      }
    }
    const unversioned = await fetch(`${kiln.base}/dashboard/assets/app.js`);
    expect(unversioned.headers.get("cache-control")).toBe("no-cache");
    expect((await fetch(`${kiln.base}/dashboard/assets/other.js`)).status).toBe(404);
  });

  test("with a token, the page and assets stay public while /stats needs it", async () => {
    expect((await fetch(`${secured.base}/dashboard`)).status).toBe(200);
    for (const url of await assetUrls(`${secured.base}/dashboard`))
      expect((await fetch(url)).status).toBe(200);
    expect((await fetch(`${secured.base}/stats`)).status).toBe(401);
    expect((await secured.call("/stats")).status).toBe(200);
  });

  test("under a host app's prefix the page's relative URLs still resolve", async () => {
    const hosted = await startKiln({ prefix: "/ops" });
    try {
      expect(hosted.base.endsWith("/ops")).toBe(true);
      const urls = await assetUrls(`${hosted.base}/dashboard`);
      expect(urls.every((url) => new URL(url).pathname.startsWith("/ops/dashboard/assets/"))).toBe(true);
      for (const url of urls) expect((await fetch(url)).status).toBe(200);
      // The host's own `/` is left alone.
      expect((await fetch(`${new URL(hosted.base).origin}/`, { redirect: "manual" })).status).toBe(404);
    } finally {
      await hosted.stop();
    }
  });
});

describe("GET /stats", () => {
  interface Stats {
    tasks: Record<string, number>;
    running: number;
    queueDepth: number;
    concurrency: number;
    workers: { busy: number; idle: number };
    lastHour: { finished: number; failed: number; stopped: number };
    throughput: Array<{ start: string; finished: number; failed: number; stopped: number }>;
  }

  test("counts tasks by status and the ones that ended in the last hour, per minute", async () => {
    const finished = await createTask(kiln, "echo", { value: 1 });
    const failed = await createTask(kiln, "fail", { where: "run" });
    await untilStatus(kiln.manager, finished, ["FINISHED"]);
    await untilStatus(kiln.manager, failed, ["FAILED"]);
    const stopped = await createTask(kiln, "e2e-stepper", { steps: 100, delayMs: 100 });
    await untilStatus(kiln.manager, stopped, ["RUNNING"]);
    expect((await kiln.call(`/tasks/${stopped}/stop?wait=5000`, { method: "POST" })).status).toBe(200);

    const response = await kiln.call("/stats?minutes=5");
    expect(response.status).toBe(200);
    const stats = (await response.json()) as Stats;
    expect(stats.tasks).toMatchObject({ FINISHED: 1, FAILED: 1, STOPPED: 1, RUNNING: 0 });
    expect(stats.lastHour).toEqual({ finished: 1, failed: 1, stopped: 1 });
    expect(stats.throughput).toHaveLength(5);
    const total = stats.throughput.reduce((sum, b) => sum + b.finished + b.failed + b.stopped, 0);
    expect(total).toBe(3);
    const starts = stats.throughput.map((bucket) => Date.parse(bucket.start));
    expect(starts.every((start, i) => i === 0 || start - (starts[i - 1] ?? 0) === 60_000)).toBe(true);
    expect(Date.now() - (starts.at(-1) ?? 0)).toBeLessThan(60_000 + 1_000);
    expect(stats.workers.busy + stats.workers.idle).toBeGreaterThan(0);
    expect(stats.concurrency).toBe(2);
    expect(stats.queueDepth).toBe(0);
  });

  test("refuses a bad window and is documented in the OpenAPI document", async () => {
    const bad = await kiln.call("/stats?minutes=61");
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain("minutes");
    const doc = (await (await kiln.call("/swagger/json")).json()) as {
      paths: Record<string, { get?: { parameters?: Array<{ name: string }> } }>;
    };
    expect(doc.paths["/stats"]?.get?.parameters?.map((parameter) => parameter.name)).toEqual(["minutes"]);
    expect(doc.paths["/dashboard"]).toBeUndefined();
  });
});
