import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { DEFAULT_VALUE_LIMITS } from "../../src/index.ts";
import { MAX_TEXT_LENGTH } from "../../src/worker/protocol.ts";
import { startManager, type TestManager, untilStatus } from "../helpers.ts";

let env: TestManager;
beforeEach(async () => {
  env = await startManager({ concurrency: 2 });
});
afterEach(async () => {
  await env.close();
});

describe("tasks that send too much", () => {
  test("a 5 MiB log line and progress message are clipped, not stored or broadcast whole", async () => {
    const { manager } = env;
    const broadcast: number[] = [];
    const unsubscribe = manager.subscribe((event) => {
      if (event.type === "log") broadcast.push(event.message.length);
      if (event.type === "progress") broadcast.push(event.progress.message?.length ?? 0);
    });
    const { task } = await manager.create("loud", { mode: "huge" });
    const finished = await untilStatus(manager, task.id, ["FINISHED", "FAILED"]);
    unsubscribe();
    expect(finished.status).toBe("FINISHED");
    const [line] = (await manager.logs(task.id)).items;
    // A log line is cut to its byte limit, the marker included; a progress message to its length.
    expect(Buffer.byteLength(line?.message ?? "")).toBeLessThanOrEqual(DEFAULT_VALUE_LIMITS.maxLogLineBytes);
    expect(line?.message).toEndWith(
      "… [cut: the line is 5,242,880 bytes, over the 16,384-byte limit (--max-log-line-bytes)]",
    );
    expect(finished.progress?.message?.length).toBeLessThan(MAX_TEXT_LENGTH + 100);
    expect(Math.max(...broadcast)).toBeLessThan(MAX_TEXT_LENGTH + 100);
  });

  test("a log flood is capped per tick with a marker line, and other tasks go on meanwhile", async () => {
    const { manager } = env;
    const flood = (await manager.create("loud", { mode: "flood", lines: 100_000 })).task;
    const neighbour = (await manager.create("steps", { steps: 20, delayMs: 5 })).task;
    const [loud, other] = await Promise.all([
      untilStatus(manager, flood.id, ["FINISHED", "FAILED"]),
      untilStatus(manager, neighbour.id, ["FINISHED", "FAILED"]),
    ]);
    expect(loud.status).toBe("FINISHED");
    expect(other.status).toBe("FINISHED");
    const stored: string[] = [];
    let cursor: number | undefined;
    for (;;) {
      const page = await manager.logs(flood.id, {
        limit: 500,
        ...(cursor === undefined ? {} : { after: cursor }),
      });
      stored.push(...page.items.map((item) => item.message));
      if (page.items.length < 500) break;
      cursor = page.items.at(-1)?.id;
    }
    const markers = stored.filter((message) => /log lines dropped/.test(message));
    expect(markers.length).toBeGreaterThan(0);
    expect(stored.length).toBeLessThan(100_000);
    const dropped = markers.reduce((sum, marker) => sum + Number(/^(\d+)/.exec(marker)?.[1] ?? 0), 0);
    // Every line is accounted for: stored, or counted in a marker.
    expect(stored.length - markers.length + dropped).toBe(100_000);
    // The manager still answers.
    expect((await manager.create("echo", { value: 1 })).created).toBe(true);
  });
});
