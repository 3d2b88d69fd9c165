import { afterEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type Logger,
  silentLogger,
  type TaskManager,
  WebhookDispatcher,
  type WebhookOptions,
} from "../../src/index.ts";
import { startManager, tempDir, untilStatus } from "../helpers.ts";
import { startServer } from "../http/server.ts";
import { type Receiver, SECRET, startReceiver } from "./receiver.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function receiver(decide?: Parameters<typeof startReceiver>[0]): Receiver {
  const started = startReceiver(decide);
  cleanups.push(started.stop);
  return started;
}

function dispatcher(urls: string[], options: Partial<WebhookOptions> = {}): WebhookDispatcher {
  const webhooks = new WebhookDispatcher({
    urls,
    secret: SECRET,
    retryInitialMs: 20,
    retryMaxMs: 200,
    timeoutMs: 300,
    logger: silentLogger,
    ...options,
  });
  cleanups.push(() => webhooks.close(0));
  return webhooks;
}

function recordingLogger() {
  const lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];
  const record =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      lines.push({ level, message, fields });
  const logger: Logger = {
    debug: record("debug"),
    info: record("info"),
    warn: record("warn"),
    error: record("error"),
  };
  return { logger, lines };
}

/** The statuses a task moved to, from its history (the source of truth for what was committed). */
async function committedTransitions(manager: TaskManager, id: string): Promise<string[]> {
  return (await manager.events(id, { limit: 500 })).items
    .filter((event) => event.toStatus !== null)
    .map((event) => event.toStatus as string);
}

/** Accepted deliveries of one task, each event id once (a receiver dedupes by id), in arrival order. */
function deliveredTransitions(hook: Receiver, taskId: string): string[] {
  const seen = new Set<string>();
  return hook
    .accepted()
    .filter((r) => r.taskId === taskId && !seen.has(r.id) && seen.add(r.id))
    .map((r) => r.to);
}

/** Polls `done` until it holds; fails after `timeoutMs`. */
async function until(done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms`);
    await Bun.sleep(5);
  }
}

function metric(text: string, series: string): number | undefined {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("webhooks", () => {
  test("a receiver that fails its first calls still gets every transition, in order per task, signed; /metrics counts the retries", async () => {
    // The first call hangs past the timeout, the next three are 500s, then it accepts.
    const hook = receiver((_, index) => (index === 0 ? "hang" : index <= 3 ? 500 : 204));
    const webhooks = dispatcher([hook.url]);
    const server = await startServer({ concurrency: 2 }, { metrics: [webhooks] });
    cleanups.push(server.stop);
    const { manager } = server;
    webhooks.attach(manager);

    const ids = [
      ...(await Promise.all(
        Array.from({ length: 8 }, async (_, i) => (await manager.create("echo", { value: i })).task.id),
      )),
      (await manager.create("fail", { where: "run" })).task.id,
      (await manager.create("flaky", { succeedOn: 2 })).task.id,
    ];
    const paused = (await manager.create("echo", { value: "later" }, { paused: true })).task.id;
    for (const id of ids) await untilStatus(manager, id, ["FINISHED", "FAILED"]);
    await manager.resume(paused);
    await untilStatus(manager, paused, ["FINISHED"]);
    expect(await webhooks.idle(20_000)).toBe(true);

    let transitions = 0;
    for (const id of [...ids, paused]) {
      const committed = await committedTransitions(manager, id);
      expect(deliveredTransitions(hook, id)).toEqual(committed);
      transitions += committed.length;
    }
    expect(deliveredTransitions(hook, paused)).toEqual(["PAUSED", "PENDING", "RUNNING", "FINISHED"]);
    expect(hook.received.every((r) => r.signatureOk)).toBe(true);
    // The calls that failed were retried with the same event id and a higher attempt number.
    const failedIds = hook.received.slice(0, 4).map((r) => r.id);
    for (const id of failedIds) {
      const tries = hook.received.filter((r) => r.id === id);
      expect(tries.at(-1)?.answer).toBe(204);
      expect(tries.at(-1)?.attempt).toBe(tries.length);
    }
    expect(hook.received.some((r) => r.attempt > 1)).toBe(true);

    const text = await (await server.call("/metrics")).text();
    expect(metric(text, 'kiln_webhook_deliveries_total{webhook="1",result="ok"}')).toBe(transitions);
    expect(metric(text, 'kiln_webhook_deliveries_total{webhook="1",result="failed"}')).toBe(4);
    expect(metric(text, 'kiln_webhook_deliveries_total{webhook="1",result="dropped"}')).toBe(0);
    expect(metric(text, 'kiln_webhook_queue_depth{webhook="1"}')).toBe(0);
    expect(text).toContain("# TYPE kiln_webhook_deliveries_total counter");
    // The URL's path and query (which may hold a secret) never reach /metrics.
    expect(text).not.toContain("in-the-query");
  });

  test("one task's failing events wait for each other but never hold up other tasks", async () => {
    let blocked: string | undefined;
    const hook = receiver((request) => (request.taskId === blocked ? 503 : 204));
    const webhooks = dispatcher([hook.url], { retryInitialMs: 50, retryMaxMs: 50 });
    const env = await startManager({ concurrency: 2 });
    cleanups.push(env.close);
    const { manager } = env;
    const slow = (await manager.create("echo", { value: "blocked" }, { paused: true })).task.id;
    blocked = slow;
    webhooks.attach(manager);
    await manager.resume(slow);
    await untilStatus(manager, slow, ["FINISHED"]);
    const others = await Promise.all(
      Array.from({ length: 5 }, async (_, i) => (await manager.create("echo", { value: i })).task.id),
    );
    for (const id of others) await untilStatus(manager, id, ["FINISHED"]);
    await hook.until(() => others.every((id) => deliveredTransitions(hook, id).length === 3));
    // Meanwhile the blocked task's first event was retried, and its later ones were never sent.
    await hook.until(() => hook.received.filter((r) => r.taskId === slow).length >= 3);
    expect(new Set(hook.received.filter((r) => r.taskId === slow).map((r) => r.to))).toEqual(
      new Set(["PENDING"]),
    );
    // Only the blocked task's three events wait (once the last answers to the others are read).
    await until(() => webhooks.counts()[0]?.queued === 3);
    expect(webhooks.counts()[0]?.ok).toBe(15);

    blocked = undefined;
    expect(await webhooks.idle(10_000)).toBe(true);
    expect(deliveredTransitions(hook, slow)).toEqual(["PENDING", "RUNNING", "FINISHED"]);
  });

  test("a full queue drops the oldest waiting event, counts it and says so", async () => {
    const hook = receiver((_, index) => (index === 0 ? "hang" : 204));
    const { logger, lines } = recordingLogger();
    const webhooks = dispatcher([hook.url], { maxQueued: 5, concurrency: 1, timeoutMs: 10_000, logger });
    const env = await startManager();
    cleanups.push(env.close);
    webhooks.attach(env.manager);
    const ids = await Promise.all(
      Array.from(
        { length: 10 },
        async (_, i) => (await env.manager.create("echo", { value: i }, { paused: true })).task.id,
      ),
    );
    await hook.until(() => hook.received.length === 1);
    await until(() => webhooks.counts()[0]?.dropped === 5);
    expect(webhooks.counts()[0]).toMatchObject({ queued: 5, dropped: 5, ok: 0 });
    hook.releaseHung();
    expect(await webhooks.idle(10_000)).toBe(true);
    // The one in flight went through; of the nine waiting, the four newest were kept.
    expect(hook.received.map((r) => r.taskId)).toEqual([ids[0] ?? "", ...ids.slice(6)]);
    expect(webhooks.counts()[0]).toMatchObject({ queued: 0, dropped: 5, ok: 5 });
    await until(() => lines.some((line) => line.message.startsWith("webhook queue full")));
    const warning = lines.find(
      (line) => line.message === "webhook queue full: dropped the oldest waiting event",
    );
    expect(warning?.level).toBe("warn");
    expect(warning?.fields).toMatchObject({ webhook: "1", origin: new URL(hook.url).origin, maxQueued: 5 });
  });

  test("close() waits for the queue within its grace, then drops and counts what is left", async () => {
    const hook = receiver(() => 500);
    const webhooks = dispatcher([hook.url], { retryInitialMs: 10_000 });
    const env = await startManager();
    cleanups.push(env.close);
    webhooks.attach(env.manager);
    await env.manager.create("echo", { value: 1 }, { paused: true });
    await env.manager.create("echo", { value: 2 }, { paused: true });
    await hook.until(() => hook.received.length === 2);
    const started = performance.now();
    expect(await webhooks.close(200)).toBe(2);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(webhooks.counts()[0]).toMatchObject({ queued: 0, dropped: 2, failed: 2, ok: 0 });
  });

  test("a delivery thread that dies is logged, and close() does not wait for it", async () => {
    const dir = tempDir("kiln-webhook-worker-");
    cleanups.push(dir.remove);
    const broken = join(dir.path, "broken-worker.ts");
    writeFileSync(broken, 'throw new Error("delivery thread broke");\n');
    const { logger, lines } = recordingLogger();
    const webhooks = dispatcher(["http://127.0.0.1:9/never"], { logger, workerUrl: broken });
    await until(() => lines.some((line) => line.message.startsWith("the webhook delivery thread failed")));
    const started = performance.now();
    expect(await webhooks.close(60_000)).toBe(0);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  test("every URL gets every event, whatever the others do", async () => {
    const down = receiver(() => 500);
    const up = receiver();
    const webhooks = dispatcher([down.url, up.url]);
    const env = await startManager();
    cleanups.push(env.close);
    webhooks.attach(env.manager);
    const { task } = await env.manager.create("echo", { value: 1 });
    await untilStatus(env.manager, task.id, ["FINISHED"]);
    await up.until(() => deliveredTransitions(up, task.id).length === 3);
    expect(deliveredTransitions(up, task.id)).toEqual(["PENDING", "RUNNING", "FINISHED"]);
    expect(webhooks.counts().map((c) => [c.webhook, c.ok > 0])).toEqual([
      ["1", false],
      ["2", true],
    ]);
  });
});
