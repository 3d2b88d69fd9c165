import { afterAll, describe, expect, test } from "bun:test";
import { statusPath, untilStatus } from "../helpers.ts";
import { type ApiError, body, startServer, type TestServer } from "../http/server.ts";
import { availableFaults, type LogLine, recordingLogger, type StorageFault } from "./storage-faults.ts";

/** The part of the API's task JSON these tests read. */
interface TaskJson {
  id: string;
  status: string;
}

const faults = availableFaults();
for (const fault of faults)
  console.log(`storage fault under test (${fault.real ? "real" : "injected"}): ${fault.name}`);

afterAll(() => {
  for (const fault of faults) fault.dir.remove();
});

const faultLines = (lines: LogLine[]) =>
  lines.filter((line) => line.message.startsWith("the database cannot be written"));
const recoveryLines = (lines: LogLine[]) =>
  lines.filter((line) => line.message === "the database is writable again");

async function expectStorage503(response: Response, fault: StorageFault): Promise<void> {
  expect(response.status).toBe(503);
  expect(response.headers.get("retry-after")).toBe("5");
  const answer = await body<ApiError>(response);
  expect(Object.keys(answer)).toEqual(["error"]);
  expect(answer.error.code).toBe("storage_unavailable");
  expect(answer.error.message).toMatch(fault.says);
  expect(answer.error.message).toContain("nothing was changed, retry later");
  expect(answer.error.details).toMatchObject({ cause: fault.cause });
}

async function serverOn(fault: StorageFault, log: ReturnType<typeof recordingLogger>): Promise<TestServer> {
  const store = fault.store ?? undefined;
  return startServer(
    { logger: log.logger, telemetryIntervalMs: 50, ...(store ? { store } : {}) },
    { logger: log.logger },
    { path: fault.dir.path, remove: () => {} },
  );
}

for (const fault of faults) {
  describe(`storage fault: ${fault.name}`, () => {
    test("idle: writes answer 503 naming the cause, reads work, one log line, recovery without a restart", async () => {
      const log = recordingLogger();
      const server = await serverOn(fault, log);
      try {
        const before = await server.call("/tasks", { json: { name: "echo", params: { value: 1 } } });
        expect(before.status).toBe(201);
        const acknowledged = await body<TaskJson>(before);
        await untilStatus(server.manager, acknowledged.id, ["FINISHED"]);
        const later = Date.now() + 3_600_000;
        const waiting = await body<TaskJson>(
          await server.call("/tasks", { json: { name: "echo", params: { value: 2 }, runAt: later } }),
        );
        const paused = (
          await body<{ task: TaskJson }>(await server.call(`/tasks/${waiting.id}/pause`, { method: "POST" }))
        ).task;
        expect(paused.status).toBe("PAUSED");

        await fault.start();
        for (let i = 0; i < 5; i++) {
          await expectStorage503(
            await server.call("/tasks", { json: { name: "echo", params: { value: `during ${i}` } } }),
            fault,
          );
        }
        // Requests that arrive together share one commit, which fails for all of them.
        const burst = await Promise.all(
          Array.from({ length: 5 }, (_, i) =>
            server.call("/tasks", { json: { name: "echo", params: { value: `burst ${i}` } } }),
          ),
        );
        for (const response of burst) await expectStorage503(response, fault);
        await expectStorage503(await server.call(`/tasks/${paused.id}/resume`, { method: "POST" }), fault);
        await expectStorage503(await server.call(`/tasks/${acknowledged.id}`, { method: "DELETE" }), fault);

        // Reads go on.
        const list = await server.call("/tasks");
        expect(list.status).toBe(200);
        expect((await body<{ items: TaskJson[] }>(list)).items.map((task) => task.id).sort()).toEqual(
          [acknowledged.id, paused.id].sort(),
        );
        const one = await server.call(`/tasks/${acknowledged.id}`);
        expect(one.status).toBe(200);
        expect((await body<TaskJson>(one)).status).toBe("FINISHED");
        expect((await server.call(`/tasks/${acknowledged.id}/events`)).status).toBe(200);
        expect((await server.call("/health")).status).toBe(200);
        expect((await server.call(`/tasks/${paused.id}`)).status).toBe(200);

        // Twelve refused writes, one line.
        expect(faultLines(log.lines)).toHaveLength(1);
        expect(faultLines(log.lines)[0]?.level).toBe("error");
        expect(faultLines(log.lines)[0]?.fields).toMatchObject({ cause: fault.cause });
        expect(log.lines.filter((line) => line.level === "error")).toHaveLength(1);

        fault.clear();
        const after = await server.call("/tasks", { json: { name: "echo", params: { value: "after" } } });
        expect(after.status).toBe(201);
        const created = await body<TaskJson>(after);
        expect((await untilStatus(server.manager, created.id, ["FINISHED"])).result).toEqual({
          value: "after",
        });
        const resumed = await server.call(`/tasks/${paused.id}/resume`, { method: "POST" });
        expect(resumed.status).toBe(200);
        expect((await body<{ task: TaskJson }>(resumed)).task.status).toBe("PENDING");
        expect(recoveryLines(log.lines)).toHaveLength(1);
        // Nothing refused was half-written: only the acknowledged tasks and the one made after.
        const ids = (await server.manager.list({ limit: 100 })).items.map((task) => task.id);
        expect(ids.sort()).toEqual([acknowledged.id, paused.id, created.id].sort());
      } finally {
        fault.clear();
        await server.stop();
      }
    });

    test("tasks that run and finish during the fault end correctly once it clears, each run once, no log lost", async () => {
      const log = recordingLogger();
      const server = await serverOn(fault, log);
      const steps = 12;
      try {
        const ids: string[] = [];
        for (let i = 0; i < 6; i++) {
          const response = await server.call("/tasks", {
            json: { name: "steps", params: { steps, delayMs: 25 } },
          });
          expect(response.status).toBe(201);
          ids.push((await body<TaskJson>(response)).id);
        }
        // Two run (concurrency 2), four wait; the fault lands while the first two are mid-way.
        await untilStatus(server.manager, ids[0] as string, ["RUNNING"]);
        await Bun.sleep(100);
        await fault.start();
        // Long enough for the running ones to end on their workers and the queue to try to start more.
        await Bun.sleep(1_500);
        const during = await Promise.all(ids.map((id) => server.call(`/tasks/${id}`)));
        const statuses = await Promise.all(during.map(async (r) => (await body<TaskJson>(r)).status));
        expect(during.every((response) => response.status === 200)).toBe(true);
        // No end could be written, and no new start either.
        expect(statuses.filter((status) => status === "FINISHED")).toHaveLength(0);
        expect(statuses.filter((status) => status === "RUNNING").length).toBeLessThanOrEqual(2);
        expect(server.manager.stats().running).toBe(0);
        await expectStorage503(
          await server.call("/tasks", { json: { name: "steps", params: { steps: 1 } } }),
          fault,
        );
        // Asking to stop a task whose run ended unrecorded is a 503 too, not a 500.
        const unrecorded = ids.filter((_, index) => statuses[index] === "RUNNING");
        expect(unrecorded.length).toBeGreaterThan(0);
        for (const id of unrecorded) {
          const refused = await server.call(`/tasks/${id}/stop`, { method: "POST" });
          expect(refused.status).toBe(503);
          expect((await body<ApiError>(refused)).error.code).toBe("storage_unavailable");
        }

        fault.clear();
        for (const id of ids) {
          const task = await untilStatus(server.manager, id, ["FINISHED", "FAILED", "STOPPED"], 30_000);
          expect(task.status).toBe("FINISHED");
          // Started once from the top and ran every step once.
          expect(task.result).toEqual({ startedAt: 0, ran: Array.from({ length: steps }, (_, i) => i) });
          expect(task.attempt).toBe(1);
          expect(await statusPath(server.manager, id)).toEqual(["PENDING", "RUNNING", "FINISHED"]);
          expect(task.progress).toMatchObject({ done: steps, total: steps });
          const lines = (await server.manager.logs(id, { limit: 500 })).items.map((line) => line.message);
          expect(lines).toEqual(Array.from({ length: steps }, (_, i) => `step ${i}`));
        }
        expect(faultLines(log.lines)).toHaveLength(1);
        expect(recoveryLines(log.lines)).toHaveLength(1);
      } finally {
        fault.clear();
        await server.stop();
      }
    });

    test("a pause acknowledged at a checkpoint during the fault is recorded once it clears", async () => {
      const log = recordingLogger();
      const server = await serverOn(fault, log);
      const steps = 4;
      try {
        const created = await server.call("/tasks", {
          json: { name: "steps", params: { steps, delayMs: 800 } },
        });
        const id = (await body<TaskJson>(created)).id;
        // Just after step 0's progress: its next checkpoint is 800 ms away, well inside the fault.
        await server.manager.waitFor(id, (current) => (current.progress?.done ?? 0) >= 1);
        const asked = await server.call(`/tasks/${id}/pause`, { method: "POST" });
        expect(asked.status).toBe(202);
        await fault.start();
        await Bun.sleep(1_200);
        // The worker has paused, but that could not be written: the row still says RUNNING.
        expect(await server.manager.get(id)).toMatchObject({ status: "RUNNING", requestedAction: "pause" });
        fault.clear();
        const paused = await untilStatus(server.manager, id, ["PAUSED"], 10_000);
        expect(paused.checkpoint).toEqual({ next: 1 });
        expect((await server.call(`/tasks/${id}/resume`, { method: "POST" })).status).toBe(200);
        const task = await untilStatus(server.manager, id, ["FINISHED", "FAILED", "STOPPED"], 20_000);
        expect(task.status).toBe("FINISHED");
        // It went on in the worker it paused on: every step once, none again.
        expect(task.result).toEqual({ startedAt: 0, ran: Array.from({ length: steps }, (_, i) => i) });
        expect(await statusPath(server.manager, id)).toEqual([
          "PENDING",
          "RUNNING",
          "PAUSED",
          "PENDING",
          "RUNNING",
          "FINISHED",
        ]);
        const lines = (await server.manager.logs(id, { limit: 500 })).items.map((line) => line.message);
        expect(lines).toEqual(Array.from({ length: steps }, (_, i) => `step ${i}`));
      } finally {
        fault.clear();
        await server.stop();
      }
    });

    test("a pause refused during the fault leaves the run going, though its worker had already paused", async () => {
      const log = recordingLogger();
      const server = await serverOn(fault, log);
      try {
        const created = await server.call("/tasks", {
          json: { name: "busy-checkpoint", params: { ms: 1_500 } },
        });
        const id = (await body<TaskJson>(created)).id;
        await untilStatus(server.manager, id, ["RUNNING"]);
        await fault.start();
        // The worker checkpoints in a tight loop: it sees the pause signal, sent while the request
        // is being written, long before the write fails.
        await expectStorage503(await server.call(`/tasks/${id}/pause`, { method: "POST" }), fault);
        fault.clear();
        const task = await untilStatus(
          server.manager,
          id,
          ["FINISHED", "FAILED", "STOPPED", "PAUSED"],
          20_000,
        );
        expect(task.status).toBe("FINISHED");
        expect(task.requestedAction).toBeNull();
        expect((task.result as { iterations: number }).iterations).toBeGreaterThan(0);
        expect(await statusPath(server.manager, id)).toEqual(["PENDING", "RUNNING", "FINISHED"]);
      } finally {
        fault.clear();
        await server.stop();
      }
    });

    test("kiln stopped during the fault: the runs it could not record are recovered on the next start", async () => {
      const log = recordingLogger();
      const first = await serverOn(fault, log);
      let second: TestServer | undefined;
      try {
        const created = await first.call("/tasks", {
          json: { name: "steps", params: { steps: 4, delayMs: 25 } },
        });
        const id = (await body<TaskJson>(created)).id;
        await untilStatus(first.manager, id, ["RUNNING"]);
        await fault.start();
        await Bun.sleep(600); // it ends on its worker; the end cannot be written
        expect((await first.manager.get(id))?.status).toBe("RUNNING");
        await first.stop();
        expect(
          log.lines.some((line) => line.message.startsWith("kiln stops with writes it could not make")),
        ).toBe(true);
        fault.clear();
        second = await serverOn(fault, log);
        const task = await untilStatus(second.manager, id, ["FINISHED", "FAILED", "STOPPED"], 30_000);
        // Not lost: recovery sees an interrupted run and runs it again from its last written checkpoint.
        expect(task.status).toBe("FINISHED");
        expect(await statusPath(second.manager, id)).toEqual([
          "PENDING",
          "RUNNING",
          "PENDING",
          "RUNNING",
          "FINISHED",
        ]);
      } finally {
        fault.clear();
        await second?.stop();
      }
    });
  });
}
