import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { EventJson, LogJson } from "../../src/http/index.ts";
import { untilStatus } from "../helpers.ts";
import { makeStoreOptions, STORE_KINDS, type StoreOptions } from "../stores.ts";
import { body, startServer, type TestServer } from "./server.ts";

interface Page<T> {
  items: T[];
  nextCursor: number | null;
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

  /** Every item of a history endpoint, read `limit` at a time by following nextCursor. */
  async function readAll<T extends { id: number }>(
    path: string,
    limit: number,
  ): Promise<{ items: T[]; pages: number }> {
    const items: T[] = [];
    let after: number | null = null;
    let pages = 0;
    do {
      const response = await server.call(`${path}?limit=${limit}${after === null ? "" : `&after=${after}`}`);
      expect(response.status).toBe(200);
      const page: Page<T> = await body<Page<T>>(response);
      expect(page.items.length).toBeLessThanOrEqual(limit);
      items.push(...page.items);
      after = page.nextCursor;
      pages++;
    } while (after !== null && pages < 100);
    return { items, pages };
  }

  describe("history", () => {
    test("GET /tasks/:id/events lists transitions oldest first, paged with after", async () => {
      const { manager } = server;
      const { task } = await manager.create("echo", { value: 1 });
      await untilStatus(manager, task.id, ["FINISHED"]);
      const { items, pages } = await readAll<EventJson>(`/tasks/${task.id}/events`, 1);
      expect(pages).toBeGreaterThanOrEqual(3);
      expect(items.map((event) => event.to)).toEqual(["PENDING", "RUNNING", "FINISHED"]);
      expect(items[0]).toMatchObject({ from: null, to: "PENDING", action: "create" });
      const ids = items.map((event) => event.id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      for (const event of items) {
        expect(Object.keys(event).sort()).toEqual([
          "action",
          "actor",
          "at",
          "context",
          "from",
          "id",
          "reason",
          "source",
          "to",
        ]);
        expect(new Date(event.at ?? "").toISOString()).toBe(event.at ?? "");
      }
    });

    test("GET /tasks/:id/logs lists log lines oldest first, paged with after", async () => {
      const { manager } = server;
      const { task } = await manager.create("steps", { steps: 7, delayMs: 1 });
      await untilStatus(manager, task.id, ["FINISHED"]);
      const { items, pages } = await readAll<LogJson>(`/tasks/${task.id}/logs`, 3);
      expect(pages).toBeGreaterThanOrEqual(3);
      expect(items.map((log) => log.message)).toEqual(Array.from({ length: 7 }, (_, i) => `step ${i}`));
      expect(items[0]).toMatchObject({ level: "info" });
      expect(Object.keys(items[0] ?? {}).sort()).toEqual(["at", "id", "level", "message"]);

      const tail = await body<Page<LogJson>>(
        await server.call(`/tasks/${task.id}/logs?after=${items[4]?.id}&limit=500`),
      );
      expect(tail.items.map((log) => log.message)).toEqual(["step 5", "step 6"]);
      expect(tail.nextCursor).toBeNull();
    });
  });
});
