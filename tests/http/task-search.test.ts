// GET /tasks by a params field (param.<path>=<value>) and by creation and end time, combined
// with the other filters and cursor paging, over both stores.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { TaskJson } from "../../src/http/index.ts";
import { untilStatus } from "../helpers.ts";
import { makeStoreOptions, STORE_KINDS, type StoreOptions } from "../stores.ts";
import { type ApiError, body, startServer, type TestServer } from "./server.ts";

interface TaskPage {
  items: TaskJson[];
  nextCursor: string | null;
}

let server: TestServer;
let store: StoreOptions;

async function create(
  params: unknown,
  extra: Record<string, unknown> = {},
  name = "echo",
): Promise<TaskJson> {
  const response = await server.call("/tasks", { json: { name, params, ...extra } });
  expect(response.status).toBe(201);
  return body<TaskJson>(response);
}

async function ids(query: string): Promise<string[]> {
  const response = await server.call(`/tasks?${query}`);
  expect({ query, status: response.status }).toEqual({ query, status: 200 });
  return (await body<TaskPage>(response)).items.map((task) => task.id);
}

/** Every id the query matches, read a page of `limit` at a time. */
async function allPages(query: string, limit: number): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | null = "";
  while (cursor !== null) {
    const response = await server.call(`/tasks?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
    const page: TaskPage = await body<TaskPage>(response);
    seen.push(...page.items.map((task) => task.id));
    cursor = page.nextCursor;
  }
  return seen;
}

async function rejection(query: string): Promise<ApiError["error"]> {
  const response = await server.call(`/tasks?${query}`);
  expect({ query, status: response.status }).toEqual({ query, status: 422 });
  return (await body<ApiError>(response)).error;
}

describe.each(STORE_KINDS)("on %s", (kind) => {
  describe("params and times in plaintext", () => {
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

    test("a class with searchableParams = false keeps no searchable copy: its tasks are not found by params", async () => {
      const found = await create({ value: 1, customerId: "c-9" });
      const hidden = await create({ value: 2, customerId: "c-9" }, {}, "echo-unsearchable");
      expect(await ids("param.customerId=c-9")).toEqual([found.id]);
      // The other filters find it as usual.
      expect(await ids("name=echo-unsearchable")).toEqual([hidden.id]);
    });

    test("a top-level or nested params field finds its tasks, newest first, with the other filters", async () => {
      const a = await create({ value: 1, customerId: "c-42", order: { id: 7 } }, { tags: ["vip"] });
      const b = await create({ value: 2, customerId: "c-42", order: { id: "8" } });
      const c = await create({ value: 3, customerId: "c-7", order: { id: 7, lines: [1, 2] } });
      await create({ value: 4, customerId: "c-42-x", deep: { a: { b: { c: { d: "too deep" } } } } });

      expect(await ids("param.customerId=c-42")).toEqual([b.id, a.id]);
      // Compared as text: the number 7 and the string "7" alike.
      expect(await ids("param.order.id=7")).toEqual([c.id, a.id]);
      expect(await ids("param.order.id=8")).toEqual([b.id]);
      expect(await ids("param.customerId=c-42&param.order.id=7")).toEqual([a.id]);
      expect(await ids("param.customerId=c-42&tag=vip")).toEqual([a.id]);
      expect(await ids("param.customerId=c-42&name=echo")).toEqual([b.id, a.id]);
      expect(await ids("param.customerId=c-42&name=hang")).toEqual([]);
      expect(await ids("param.value=3&status=PENDING")).toEqual(
        (await server.manager.get(c.id))?.status === "PENDING" ? [c.id] : [],
      );
      expect(await ids("param.customerId=nobody")).toEqual([]);
      // Array items and fields below the fourth level are not kept.
      expect(await ids("param.order.lines=1")).toEqual([]);
      expect(await ids("param.deep.a.b.c=too%20deep")).toEqual([]);
    });

    test("a params filter pages with the cursor, every match once", async () => {
      const created: string[] = [];
      for (let i = 0; i < 7; i++) created.push((await create({ value: i, batch: "b1" })).id);
      await create({ value: 99, batch: "b2" });
      expect(await allPages("param.batch=b1", 3)).toEqual([...created].reverse());
      expect(await allPages("param.batch=b1&createdAfter=0", 2)).toEqual([...created].reverse());
    });

    test("the params of a deleted task are no longer found", async () => {
      const task = await create({ value: 1, customerId: "gone" });
      await untilStatus(server.manager, task.id, ["FINISHED"]);
      expect(await ids("param.customerId=gone")).toEqual([task.id]);
      expect((await server.call(`/tasks/${task.id}`, { method: "DELETE" })).status).toBe(204);
      expect(await ids("param.customerId=gone")).toEqual([]);
    });

    test("createdAfter / createdBefore, in epoch ms and ISO 8601", async () => {
      const first = await create({ value: 1 });
      await Bun.sleep(20);
      const middle = await create({ value: 2 });
      await Bun.sleep(20);
      const last = await create({ value: 3 });
      const at = Date.parse(middle.createdAt ?? "");
      const iso = (ms: number) => new Date(ms).toISOString();
      expect(await ids(`createdAfter=${at}`)).toEqual([last.id, middle.id]);
      expect(await ids(`createdAfter=${iso(at)}`)).toEqual([last.id, middle.id]);
      expect(await ids(`createdBefore=${at}`)).toEqual([first.id]);
      expect(await ids(`createdAfter=${at}&createdBefore=${at + 1}`)).toEqual([middle.id]);
      // An offset is as good as Z.
      const offset = new Date(at + 60 * 60_000).toISOString().replace("Z", "+01:00");
      expect(await ids(`createdAfter=${encodeURIComponent(offset)}`)).toEqual([last.id, middle.id]);
      expect(await ids(`createdAfter=${Date.now() + 60_000}`)).toEqual([]);
    });

    test("endedAfter / endedBefore: ended tasks in the window; a task still running never matches", async () => {
      const running = await create({}, {}, "hang");
      const done = await create({ value: 1 });
      const finished = await untilStatus(server.manager, done.id, ["FINISHED"]);
      await untilStatus(server.manager, running.id, ["RUNNING"]);
      const endTime = finished.endTime ?? 0;
      expect(await ids(`endedAfter=${endTime}`)).toEqual([done.id]);
      expect(await ids(`endedBefore=${endTime + 1}`)).toEqual([done.id]);
      expect(await ids(`endedBefore=${endTime}`)).toEqual([]);
      expect(await ids(`endedAfter=${endTime + 1}`)).toEqual([]);
      expect(await ids(`endedAfter=0&status=FINISHED&param.value=1`)).toEqual([done.id]);
      await server.call(`/tasks/${running.id}/stop`, { method: "POST" });
    });

    test("bad paths, times and combinations are 422 with the field named", async () => {
      const badPath = await rejection("param.a..b=1");
      expect(badPath.code).toBe("validation");
      expect(badPath.message).toContain('"param.a..b" is not a params path');
      expect((await rejection("param.=1")).message).toContain("is not a params path");
      expect((await rejection("param.a.b.c.d.e=1")).message).toContain("up to 4 keys");
      expect((await rejection("param.x=1&param.x=2")).message).toContain("more than once");
      expect((await rejection(`param.x=${"v".repeat(257)}`)).message).toContain("longer than 256");
      expect((await rejection("param.a=1&param.b=1&param.c=1&param.d=1&param.e=1")).message).toContain(
        "at most 4",
      );
      const badTime = await rejection("createdAfter=yesterday");
      expect(badTime.message).toContain("createdAfter must be epoch milliseconds or an ISO 8601 date-time");
      expect((await rejection("endedBefore=2025-13-01T00:00:00Z")).message).toContain(
        '"endedBefore" is not a date-time',
      );
      expect((await rejection("endedBefore=2025-05-01T00:00:00")).message).toContain("endedBefore must be");
      expect((await rejection("createdAfter=2000&createdBefore=1000")).message).toContain(
        '"createdBefore" must be later than createdAfter',
      );
      expect((await rejection("endedAfter=999999999999999")).message).toContain("past the end of year 9999");
    });
  });

  describe("params encrypted at rest", () => {
    beforeEach(async () => {
      store = await makeStoreOptions(kind, { encryptionKey: new Uint8Array(32).fill(7) });
      server = await startServer(store.options);
    });
    afterEach(async () => {
      try {
        await server.stop();
      } finally {
        await store.close();
      }
    });

    test("a params filter is a 422 that says why; time filters still work", async () => {
      const task = await create({ value: 1, customerId: "c-42" });
      const error = await rejection("param.customerId=c-42");
      expect(error.code).toBe("param_filters_unavailable");
      expect(error.message).toContain("param filters need params stored unencrypted");
      expect(await ids(`createdAfter=${Date.parse(task.createdAt ?? "")}`)).toEqual([task.id]);
    });
  });
});
