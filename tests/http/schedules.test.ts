// The /schedules routes over real HTTP, on each store.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { untilStatus } from "../helpers.ts";
import { makeStoreOptions, STORE_KINDS, type StoreOptions } from "../stores.ts";
import { type ApiError, body, startServer, type TestServer } from "./server.ts";

interface ScheduleJson {
  id: string;
  name: string;
  cron: string | null;
  everyMs: number | null;
  timezone: string | null;
  params: unknown;
  paused: boolean;
  source: string;
  nextRunAt: string | null;
  lastRunAt: string | null;
  lastTaskId: string | null;
}

let server: TestServer;
let store: StoreOptions;

describe.each(STORE_KINDS)("on %s", (kind) => {
  beforeEach(async () => {
    store = await makeStoreOptions(kind);
    server = await startServer(store.options);
  });
  afterEach(async () => {
    try {
      await server.stop();
    } finally {
      await store.close();
    }
  });

  test("create, list, show, change, pause, resume, trigger and delete a schedule", async () => {
    const created = await server.call("/schedules", {
      json: {
        id: "nightly",
        name: "echo",
        cron: "0  3 * * *",
        timezone: "europe/berlin",
        params: { value: 1 },
      },
    });
    expect(created.status).toBe(201);
    const { schedule } = await body<{ schedule: ScheduleJson }>(created);
    expect(schedule).toMatchObject({
      id: "nightly",
      name: "echo",
      cron: "0 3 * * *",
      timezone: "Europe/Berlin",
      everyMs: null,
      params: { value: 1 },
      paused: false,
      source: "api",
      lastRunAt: null,
    });
    expect(new Date(schedule.nextRunAt as string).getTime()).toBeGreaterThan(Date.now());
    const again = await server.call("/schedules", {
      json: { id: "nightly", name: "echo", everyMs: 5_000, params: { value: 3 } },
    });
    expect(again.status).toBe(409);

    const list = await body<{ items: ScheduleJson[] }>(await server.call("/schedules"));
    expect(list.items.map((item) => item.id)).toEqual(["nightly"]);

    const shown = await body<{ nextRuns: string[]; lastTask: unknown }>(
      await server.call("/schedules/nightly"),
    );
    expect(shown.nextRuns).toHaveLength(5);
    // 03:00 in Berlin is 01:00 or 02:00 UTC, depending on daylight saving time.
    for (const time of shown.nextRuns) expect(["01", "02"]).toContain(time.slice(11, 13));
    expect(shown.lastTask).toBeNull();

    const patched = await server.call("/schedules/nightly", {
      method: "PATCH",
      json: { everyMs: 60_000, params: { value: 2 } },
    });
    expect(patched.status).toBe(200);
    const changed = (await body<{ schedule: ScheduleJson }>(patched)).schedule;
    expect([changed.cron, changed.everyMs, changed.timezone, changed.params]).toEqual([
      null,
      60_000,
      null,
      { value: 2 },
    ]);

    const paused = await body<{ schedule: ScheduleJson }>(
      await server.call("/schedules/nightly/pause", { method: "POST" }),
    );
    expect(paused.schedule.paused).toBe(true);
    expect((await body<{ nextRuns: string[] }>(await server.call("/schedules/nightly"))).nextRuns).toEqual(
      [],
    );
    const resumed = await body<{ schedule: ScheduleJson }>(
      await server.call("/schedules/nightly/resume", { method: "POST" }),
    );
    expect(resumed.schedule.paused).toBe(false);

    const triggered = await server.call("/schedules/nightly/trigger", { method: "POST" });
    expect(triggered.status).toBe(201);
    const { task } = await body<{ task: { id: string; schedule: { id: string; fireTime: string } } }>(
      triggered,
    );
    expect(task.schedule.id).toBe("nightly");
    await untilStatus(server.manager, task.id, ["FINISHED"]);
    const detail = await body<{ lastTask: { id: string; status: string }; fires: { taskId: string }[] }>(
      await server.call("/schedules/nightly"),
    );
    expect(detail.lastTask).toEqual({ id: task.id, status: "FINISHED" });
    expect(detail.fires.map((fire) => fire.taskId)).toEqual([task.id]);
    const taskJson = await body<{ schedule: { id: string; fireTime: string } }>(
      await server.call(`/tasks/${task.id}`),
    );
    expect(taskJson.schedule).toEqual(task.schedule);

    expect((await server.call("/schedules/nightly", { method: "DELETE" })).status).toBe(204);
    expect((await server.call("/schedules/nightly", { method: "DELETE" })).status).toBe(404);
    expect((await server.call("/schedules/nightly")).status).toBe(404);
    expect((await server.call(`/tasks/${task.id}`)).status).toBe(200);
  });

  test("bad expressions, time zones, params and names are refused with what is wrong", async () => {
    const cases: [unknown, number, string][] = [
      [{ name: "echo", cron: "61 * * * *", params: { value: 1 } }, 422, "minute 61 is out of range 0-59"],
      [
        { name: "echo", cron: "0 3 * * *", timezone: "Mars/Olympus", params: { value: 1 } },
        422,
        "not a known IANA time zone",
      ],
      [{ name: "echo", cron: "0 3 * * *", everyMs: 5_000, params: { value: 1 } }, 422, "not both"],
      [{ name: "echo", everyMs: 5_000, misfire: "all", params: { value: 1 } }, 422, "backfillMs"],
      [{ name: "echo", everyMs: 5_000 }, 422, "value"],
      [{ name: "no-such-task", everyMs: 5_000 }, 404, "no-such-task"],
      [{ name: "echo", everyMs: 5_000, colour: "red" }, 422, "colour"],
      [{ name: "echo", everyMs: 10 }, 422, "everyMs"],
    ];
    for (const [json, status, message] of cases) {
      const response = await server.call("/schedules", { json });
      expect({ json, status: response.status }).toEqual({ json, status });
      expect((await body<ApiError>(response)).error.message).toContain(message);
    }
    await server.call("/schedules", {
      json: { id: "s", name: "echo", everyMs: 5_000, params: { value: 1 } },
    });
    const patched = await server.call("/schedules/s", { method: "PATCH", json: { cron: "* * *" } });
    expect(patched.status).toBe(422);
    expect((await body<ApiError>(patched)).error.message).toContain("has 3 fields");
    expect((await server.call("/schedules/absent/trigger", { method: "POST" })).status).toBe(404);
  });
});
