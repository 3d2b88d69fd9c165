import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { untilStatus } from "../helpers.ts";
import { makeStoreOptions, STORE_KINDS, type StoreOptions } from "../stores.ts";
import { startServer, type TestServer } from "./server.ts";

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

  /** The value of one sample line, e.g. `kiln_tasks{status="FINISHED"}`. */
  function value(text: string, series: string): number | undefined {
    const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  }

  describe("GET /metrics", () => {
    test("speaks Prometheus text with task, worker, queue and duration metrics", async () => {
      const { manager } = server;
      const done = (await manager.create("echo", { value: 1 })).task;
      await manager.create("echo", { value: 2 }, { paused: true });
      await manager.create("echo", { value: 3 }, { runAt: Date.now() + 60_000 });
      await untilStatus(manager, done.id, ["FINISHED"]);

      const response = await server.call("/metrics");
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toContain("text/plain");
      expect(response.headers.get("content-type")).toContain("version=0.0.4");
      const text = await response.text();
      for (const name of ["kiln_tasks", "kiln_workers", "kiln_queue_depth", "kiln_task_duration_seconds"]) {
        expect(text).toContain(`# TYPE ${name} `);
      }
      expect(text).toContain("# TYPE kiln_task_duration_seconds histogram");
      expect(value(text, 'kiln_tasks{status="FINISHED",name="echo"}')).toBe(1);
      expect(value(text, 'kiln_tasks{status="PAUSED",name="echo"}')).toBe(1);
      expect(value(text, 'kiln_tasks{status="PENDING",name="echo"}')).toBe(1);
      expect(value(text, 'kiln_tasks{status="FAILED",name="echo"}')).toBe(0);
      // A registered name with no task yet still has its series, at zero.
      expect(value(text, 'kiln_tasks{status="RUNNING",name="steps"}')).toBe(0);
      expect(value(text, "kiln_queue_depth")).toBe(1);
      const busy = value(text, 'kiln_workers{state="busy"}');
      const idle = value(text, 'kiln_workers{state="idle"}');
      expect(busy).toBeGreaterThanOrEqual(0);
      expect(idle).toBeGreaterThanOrEqual(0);
      expect(value(text, 'kiln_task_duration_seconds_count{name="echo",status="FINISHED"}')).toBe(1);
      expect(value(text, 'kiln_task_duration_seconds_bucket{name="echo",status="FINISHED",le="+Inf"}')).toBe(
        1,
      );
      expect(
        value(text, 'kiln_task_duration_seconds_sum{name="echo",status="FINISHED"}'),
      ).toBeGreaterThanOrEqual(0);
      // Every non-comment line is `name{labels} number`.
      for (const line of text.trim().split("\n")) {
        if (line.startsWith("#")) continue;
        expect(line).toMatch(/^[a-z_]+(\{[^}]*\})? -?[0-9.e+-]+$/);
      }
    });

    test("stopped tasks are observed under their final status", async () => {
      const { manager } = server;
      const { task } = await manager.create("hang", {});
      await untilStatus(manager, task.id, ["RUNNING"]);
      const stop = await server.call(`/tasks/${task.id}/stop?wait=5000`, { method: "POST" });
      expect(stop.status).toBe(200);
      const text = await (await server.call("/metrics")).text();
      expect(value(text, 'kiln_task_duration_seconds_count{name="hang",status="STOPPED"}')).toBe(1);
    });
  });
});
