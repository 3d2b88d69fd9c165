import { afterEach, describe, expect, test } from "bun:test";
import type { Logger, TransitionEvent } from "../../src/index.ts";
import { startManager, type TestManager, untilStatus } from "../helpers.ts";

interface Line {
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

function recordingLogger(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const record =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      lines.push({ level, message, fields });
  return {
    logger: { debug: record("debug"), info: record("info"), warn: record("warn"), error: record("error") },
    lines,
  };
}

let env: TestManager | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

describe("observers", () => {
  test("onTransition hears each committed transition in order, after the call that made it returned", async () => {
    env = await startManager();
    const { manager } = env;
    const seen: Array<{ action: string; to: string; inHistory: boolean }> = [];
    const reads: Promise<unknown>[] = [];
    manager.onTransition((event) => {
      // Committed: a read of the history issued while the observer is called finds the transition's row.
      const entry = { action: event.action, to: event.to, inHistory: false };
      seen.push(entry);
      reads.push(
        Promise.resolve(manager.events(event.task.id)).then((history) => {
          entry.inHistory = history.items.some(
            (row) => row.action === event.action && row.toStatus === event.to,
          );
        }),
      );
    });
    const creating = manager.create("echo", { value: 1 });
    // Not called inside create(): observers run once the engine's own work is done.
    expect(seen).toEqual([]);
    const { task } = await creating;
    await untilStatus(manager, task.id, ["FINISHED"]);
    await Bun.sleep(0);
    await Promise.all(reads);
    expect(seen).toEqual([
      { action: "create", to: "PENDING", inHistory: true },
      { action: "start", to: "RUNNING", inHistory: true },
      { action: "finish", to: "FINISHED", inHistory: true },
    ]);
  });

  test("onLog and onProgress hear a task's lines and progress; unsubscribe ends the calls", async () => {
    env = await startManager();
    const { manager } = env;
    const logs: string[] = [];
    const progress: number[] = [];
    const transitions: string[] = [];
    const offLog = manager.onLog((event) => {
      logs.push(event.message);
    });
    manager.onProgress((event) => {
      progress.push(event.progress.done);
    });
    const offTransition = manager.onTransition((event) => {
      transitions.push(event.to);
    });
    const first = (await manager.create("steps", { steps: 3, delayMs: 1 })).task;
    await untilStatus(manager, first.id, ["FINISHED"]);
    await Bun.sleep(0);
    expect(logs).toEqual(["step 0", "step 1", "step 2"]);
    expect(progress.at(-1)).toBe(3);
    expect(transitions).toEqual(["PENDING", "RUNNING", "FINISHED"]);

    offLog();
    offTransition();
    const second = (await manager.create("steps", { steps: 2, delayMs: 1 })).task;
    await untilStatus(manager, second.id, ["FINISHED"]);
    await Bun.sleep(0);
    expect(logs).toHaveLength(3);
    expect(transitions).toHaveLength(3);
    // The one still subscribed heard the second task too.
    expect(progress.at(-1)).toBe(2);
  });

  test("an observer that throws or rejects is logged; the engine and the other observers carry on", async () => {
    const { logger, lines } = recordingLogger();
    env = await startManager({ logger });
    const { manager } = env;
    manager.onTransition(() => {
      throw new Error("observer bug");
    });
    manager.onTransition(async () => {
      throw new Error("async observer bug");
    });
    const heard: TransitionEvent[] = [];
    manager.onTransition((event) => {
      heard.push(event);
    });
    const ids = await Promise.all(
      Array.from({ length: 5 }, async (_, i) => (await manager.create("echo", { value: i })).task.id),
    );
    for (const id of ids) await untilStatus(manager, id, ["FINISHED"]);
    await Bun.sleep(10);
    expect(heard.filter((event) => event.to === "FINISHED")).toHaveLength(5);
    const failures = lines.filter((line) => line.message === "an observer failed");
    expect(failures.map((line) => line.fields.error)).toEqual([
      "Error: observer bug",
      "Error: async observer bug",
    ]);
    expect(failures[0]?.fields.observer).toBe("onTransition");
    expect(failures[0]?.level).toBe("error");
  });

  test("an async observer that never settles holds nothing up", async () => {
    env = await startManager({ concurrency: 2 });
    const { manager } = env;
    let calls = 0;
    manager.onTransition(() => {
      calls++;
      return new Promise(() => {});
    });
    const ids = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => (await manager.create("echo", { value: i })).task.id),
    );
    for (const id of ids) await untilStatus(manager, id, ["FINISHED"]);
    await Bun.sleep(0);
    expect(calls).toBe(60);
    // Shutdown does not wait for the observer's promises either.
    await env.close();
    env = undefined;
  });

  test("a synchronous observer that holds the thread is reported", async () => {
    const { logger, lines } = recordingLogger();
    env = await startManager({ logger });
    const { manager } = env;
    let once = true;
    manager.onTransition(() => {
      if (!once) return;
      once = false;
      const end = performance.now() + 150;
      while (performance.now() < end) {
        // Holding the engine's thread, as a careless observer would.
      }
    });
    const { task } = await manager.create("echo", { value: 1 });
    await untilStatus(manager, task.id, ["FINISHED"]);
    await Bun.sleep(0);
    const report = lines.find((line) => line.message === "an observer blocked the engine's thread");
    expect(report?.fields.observer).toBe("onTransition");
    expect(report?.fields.ms as number).toBeGreaterThanOrEqual(150);
  });

  test("a non-function is refused at once", async () => {
    env = await startManager();
    expect(() => env?.manager.onTransition("nope" as never)).toThrow("onTransition takes a function");
  });
});
