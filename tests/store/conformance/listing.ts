import { describe, expect, test } from "bun:test";
import type { TaskStatus } from "../../../src/index.ts";
import {
  DEFAULT_PAGE_SIZE,
  type ListTasksQuery,
  MAX_PAGE_SIZE,
  type TaskRecord,
  type TaskStore,
} from "../../../src/store/index.ts";
import { ALL_STATUSES, createEvent, createIn, event, newTask, type SuiteContext } from "./harness.ts";

const NAMES = ["alpha", "beta", "gamma"] as const;
/** More than MAX_PAGE_SIZE, so that the cap shows. */
const SEEDED = MAX_PAGE_SIZE + 20;

interface Seeded {
  id: string;
  status: TaskStatus;
  name: string;
  tags: string[] | null;
}

/** SEEDED tasks over every status, three names and overlapping tags, written in one transaction. */
async function seed(store: TaskStore, count = SEEDED): Promise<Seeded[]> {
  const seeded: Seeded[] = [];
  await store.transaction(async (tx) => {
    for (let i = 0; i < count; i++) {
      const status = ALL_STATUSES[i % ALL_STATUSES.length] ?? "PENDING";
      const name = NAMES[i % NAMES.length] ?? "alpha";
      // "fiver" shares a prefix with "five": a tag filter matches whole tags only.
      const tags =
        i % 7 === 0
          ? null
          : [i % 2 ? "odd" : "even", ...(i % 5 ? [] : ["five"]), ...(i % 10 === 1 ? ["fiver"] : [])];
      const task = newTask({ taskName: name, tags });
      await tx.createTask(task, createEvent());
      if (status !== "PENDING")
        await tx.transition(task.id, ["PENDING"], { status }, event("PENDING", status, "start"));
      seeded.push({ id: task.id, status, name, tags });
    }
  });
  return seeded;
}

const newestFirst = (tasks: Seeded[]) =>
  tasks.map((task) => task.id).sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
const oldestFirst = (ids: string[]) => [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** The ids of `made` that `keep` keeps, newest first (they were made in id order). */
function keptNewestFirst<T extends { id: string }>(made: readonly T[], keep: (task: T) => boolean): string[] {
  return made
    .filter(keep)
    .map((task) => task.id)
    .reverse();
}

/** Stops a PENDING task and deletes it (only an ended task can be). */
async function stopAndDelete(store: TaskStore, id: string): Promise<void> {
  await store.transition(id, ["PENDING"], { status: "STOPPED" }, event("PENDING", "STOPPED", "stop"));
  await store.deleteTask(id);
}

/** Every page of a query, and how many pages it took. */
async function allPages(store: TaskStore, query: ListTasksQuery): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let pages = 1; ; pages++) {
    const page = await store.listTasks({ ...query, cursor });
    ids.push(...page.items.map((task) => task.id));
    if (page.nextCursor === null) return { ids, pages };
    expect(page.nextCursor).toBe(page.items.at(-1)?.id ?? "");
    cursor = page.nextCursor;
    if (pages > 1_000) throw new Error("paging does not end");
  }
}

export function listingTests({ open }: SuiteContext): void {
  describe("listTasks", () => {
    test("pages through every task newest first; a full last page has no next cursor", async () => {
      const { store } = await open();
      const seeded = await seed(store);
      const expected = newestFirst(seeded);
      const byTen = await allPages(store, { limit: 10 });
      expect(byTen.ids).toEqual(expected);
      expect(byTen.pages).toBe(SEEDED / 10);
      const bySeven = await allPages(store, { limit: 7 });
      expect(bySeven.ids).toEqual(expected);
      expect(bySeven.pages).toBe(Math.ceil(SEEDED / 7));
      const first = await store.listTasks({ limit: 3 });
      expect(first.items.map((task) => task.id)).toEqual(expected.slice(0, 3));
      const full = (await store.getTask(expected[0] ?? "")) as TaskRecord;
      expect(first.items[0]).toEqual(full);
    });

    test("filters by status, name and tag (whole tags), alone and together, across pages", async () => {
      const { store } = await open();
      const seeded = await seed(store);
      const cases: Array<[ListTasksQuery, (task: Seeded) => boolean]> = [
        ...ALL_STATUSES.map((status): [ListTasksQuery, (task: Seeded) => boolean] => [
          { status },
          (task) => task.status === status,
        ]),
        [{ name: "beta" }, (task) => task.name === "beta"],
        [{ name: "delta" }, () => false],
        [{ tag: "five" }, (task) => task.tags?.includes("five") ?? false],
        [{ tag: "fiver" }, (task) => task.tags?.includes("fiver") ?? false],
        [{ tag: "fiv" }, () => false],
        [{ tag: "even" }, (task) => task.tags?.includes("even") ?? false],
        [
          { status: "RUNNING", name: "gamma", tag: "odd" },
          (task) =>
            task.status === "RUNNING" && task.name === "gamma" && (task.tags?.includes("odd") ?? false),
        ],
        [{ status: "FAILED", name: "alpha" }, (task) => task.status === "FAILED" && task.name === "alpha"],
      ];
      for (const [query, keep] of cases) {
        const { ids } = await allPages(store, { ...query, limit: 9 });
        expect({ query, ids }).toEqual({ query, ids: newestFirst(seeded.filter(keep)) });
      }
    });

    test("limits: none or not a number gives the default, below 1 gives 1, above the cap gives the cap, fractions truncate", async () => {
      const { store } = await open();
      const expected = newestFirst(await seed(store));
      const count = async (limit: number | undefined) => {
        const page = await store.listTasks({ limit });
        expect(page.items.map((task) => task.id)).toEqual(expected.slice(0, page.items.length));
        expect(page.nextCursor).toBe(page.items.at(-1)?.id ?? "");
        return page.items.length;
      };
      expect(await count(undefined)).toBe(DEFAULT_PAGE_SIZE);
      expect(await count(Number.NaN)).toBe(DEFAULT_PAGE_SIZE);
      expect(await count(Number.POSITIVE_INFINITY)).toBe(DEFAULT_PAGE_SIZE);
      expect(await count(0)).toBe(1);
      expect(await count(-5)).toBe(1);
      expect(await count(2.9)).toBe(2);
      expect(await count(MAX_PAGE_SIZE + 1)).toBe(MAX_PAGE_SIZE);
      expect(await count(1_000_000)).toBe(MAX_PAGE_SIZE);
    });

    test("a cursor returns the tasks older than it, whether or not it is a task's id", async () => {
      const { store } = await open();
      const expected = newestFirst(await seed(store, 30));
      const at = expected[11] ?? "";
      expect((await store.listTasks({ cursor: at, limit: 100 })).items.map((t) => t.id)).toEqual(
        expected.slice(12),
      );
      const deleted = await createIn(store, "FINISHED");
      await store.deleteTask(deleted.id);
      const newer = (await store.listTasks({ cursor: deleted.id, limit: 100 })).items.map((t) => t.id);
      expect(newer).toEqual(expected);
      const highest = "ffffffff-ffff-ffff-ffff-ffffffffffff";
      expect((await store.listTasks({ cursor: highest, limit: 100 })).items).toHaveLength(30);
      const lowest = "00000000-0000-0000-0000-000000000000";
      expect(await store.listTasks({ cursor: lowest })).toEqual({ items: [], nextCursor: null });
    });

    test("a tag with params fields, a tag given twice, and a deleted task's tags", async () => {
      const { store } = await open();
      const made: { id: string; tags: string[]; customer: string }[] = [];
      await store.transaction(async (tx) => {
        for (let i = 0; i < 24; i++) {
          const customer = `c-${i % 3}`;
          // A tag given twice counts once; "blue" alone on every fourth task.
          const tags = i % 4 === 0 ? ["blue"] : ["red", "red", ...(i % 2 ? ["blue"] : [])];
          const task = newTask({ params: { customer }, tags });
          await tx.createTask(task, createEvent());
          made.push({ id: task.id, tags, customer });
        }
      });
      const expected = (keep: (task: (typeof made)[number]) => boolean) => keptNewestFirst(made, keep);
      const cases: Array<[ListTasksQuery, (task: (typeof made)[number]) => boolean]> = [
        [{ tag: "red" }, (task) => task.tags.includes("red")],
        [{ tag: "blue" }, (task) => task.tags.includes("blue")],
        [
          { tag: "red", params: [{ path: "customer", value: "c-1" }] },
          (task) => task.tags.includes("red") && task.customer === "c-1",
        ],
        [
          { tag: "blue", params: [{ path: "customer", value: "c-0" }], createdAfter: 0 },
          (task) => task.tags.includes("blue") && task.customer === "c-0",
        ],
        [{ tag: "green" }, () => false],
      ];
      for (const [query, keep] of cases) {
        const { ids } = await allPages(store, { ...query, limit: 4 });
        expect({ query, ids }).toEqual({ query, ids: expected(keep) });
      }
      expect((await store.getTask(made[2]?.id ?? ""))?.tags).toEqual(["red", "red"]);
      // A task's tags go with it.
      const [first] = made;
      await stopAndDelete(store, first?.id ?? "");
      const blue = await allPages(store, { tag: "blue" });
      expect(blue.ids).toEqual(expected((task) => task.tags.includes("blue") && task !== first));
    });

    test("params fields and time bounds filter, with the others and across pages", async () => {
      const { store } = await open();
      const made: { id: string; customer: string; order: number; status: TaskStatus }[] = [];
      // End times after the creates: a task cannot end before it was created.
      const ended = Date.now() + 60_000;
      await store.transaction(async (tx) => {
        for (let i = 0; i < 40; i++) {
          const customer = `c-${i % 4}`;
          const task = newTask({ params: { customer, order: { id: i % 3 }, list: [customer] } });
          await tx.createTask(task, createEvent());
          const status: TaskStatus = i % 2 ? "FINISHED" : "PENDING";
          if (status === "FINISHED") {
            await tx.transition(
              task.id,
              ["PENDING"],
              { status, endTime: ended + i },
              event("PENDING", status, "start"),
            );
          }
          made.push({ id: task.id, customer, order: i % 3, status });
        }
      });
      const expected = (keep: (task: (typeof made)[number]) => boolean) => keptNewestFirst(made, keep);
      const cases: Array<[ListTasksQuery, (task: (typeof made)[number]) => boolean]> = [
        [{ params: [{ path: "customer", value: "c-1" }] }, (task) => task.customer === "c-1"],
        [{ params: [{ path: "order.id", value: "2" }] }, (task) => task.order === 2],
        [
          {
            params: [
              { path: "customer", value: "c-1" },
              { path: "order.id", value: "0" },
            ],
          },
          (task) => task.customer === "c-1" && task.order === 0,
        ],
        [
          { params: [{ path: "customer", value: "c-3" }], status: "FINISHED" },
          (task) => task.customer === "c-3" && task.status === "FINISHED",
        ],
        [{ params: [{ path: "list", value: "c-1" }] }, () => false],
        [{ endedAfter: ended + 20 }, (task) => task.status === "FINISHED" && made.indexOf(task) >= 20],
        [
          { endedBefore: ended + 20, params: [{ path: "order.id", value: "1" }] },
          (task) => task.status === "FINISHED" && made.indexOf(task) < 20 && task.order === 1,
        ],
        [{ createdAfter: 0, createdBefore: ended }, () => true],
        [{ createdAfter: ended }, () => false],
        [{ createdBefore: 1 }, () => false],
      ];
      for (const [query, keep] of cases) {
        const { ids } = await allPages(store, { ...query, limit: 3 });
        expect({ query, ids }).toEqual({ query, ids: expected(keep) });
      }
      // A task's fields go with it.
      const [first] = made;
      await stopAndDelete(store, first?.id ?? "");
      const c0 = await allPages(store, { params: [{ path: "customer", value: "c-0" }] });
      expect(c0.ids).toEqual(expected((task) => task.customer === "c-0" && task !== first));
    });

    test("an empty store lists nothing", async () => {
      const { store } = await open();
      expect(await store.listTasks({})).toEqual({ items: [], nextCursor: null });
      expect(await store.listTasks({ status: "RUNNING", tag: "x", name: "y" })).toEqual({
        items: [],
        nextCursor: null,
      });
    });
  });

  describe("idsWithPrefix", () => {
    const IDS = [
      "0190aaaa-0000-7000-8000-000000000001",
      "0190aaaa-0000-7000-8000-000000000002",
      "0190aaab-0000-7000-8000-000000000001",
      "0190ab00-0000-7000-8000-000000000001",
      "0190b000-0000-7000-8000-00000000000f",
      "0191ffff-ffff-7fff-bfff-ffffffffffff",
    ];

    test("the ids that start with the prefix, in id order, at most `limit`", async () => {
      const { store } = await open();
      // Created out of order: the answer is in id order all the same.
      for (const id of [...IDS].reverse()) await store.createTask(newTask({ id }), createEvent());
      expect(await store.idsWithPrefix("0190aaaa", 10)).toEqual(IDS.slice(0, 2));
      expect(await store.idsWithPrefix("0190aa", 10)).toEqual(IDS.slice(0, 3));
      expect(await store.idsWithPrefix("0190a", 10)).toEqual(IDS.slice(0, 4));
      expect(await store.idsWithPrefix("0190", 10)).toEqual(IDS.slice(0, 5));
      expect(await store.idsWithPrefix("0190", 2)).toEqual(IDS.slice(0, 2));
      expect(await store.idsWithPrefix("0190aaaa-0000-7000-8000-00000000000", 10)).toEqual(IDS.slice(0, 2));
      expect(await store.idsWithPrefix(IDS[2] ?? "", 10)).toEqual(IDS.slice(2, 3));
      expect(await store.idsWithPrefix("0191ffff-ffff", 10)).toEqual(IDS.slice(5, 6));
      expect(await store.idsWithPrefix("0190b000-0000-7000-8000-00000000000f", 10)).toEqual(IDS.slice(4, 5));
      expect(await store.idsWithPrefix("", 3)).toEqual(IDS.slice(0, 3));
      expect(await store.idsWithPrefix("0192", 10)).toEqual([]);
      expect(await store.idsWithPrefix("018f", 10)).toEqual([]);
    });

    test("a prefix that cannot start an id matches nothing and does not fail", async () => {
      const { store } = await open();
      await store.createTask(newTask({ id: IDS[0] }), createEvent());
      for (const prefix of [
        "zz",
        "0190aaaa_",
        "0190aaaa-0000-7000-8000-0000000000011",
        "'; DROP TABLE tasks; --",
        "%",
        "0190%",
        "🎉",
      ]) {
        expect({ prefix, ids: await store.idsWithPrefix(prefix, 10) }).toEqual({ prefix, ids: [] });
      }
      expect(await store.idsWithPrefix("0190", 10)).toEqual(IDS.slice(0, 1));
    });

    test("reads by a text that is not an id find nothing and do not fail", async () => {
      const { store } = await open();
      await createIn(store, "FINISHED");
      for (const id of ["", "0190aa", "not-an-id", "'; --", "🎉"]) {
        expect(await store.getTask(id)).toBeUndefined();
        expect(await store.listEvents(id, {})).toEqual({ items: [], nextCursor: null });
        expect(await store.listLogs(id, {})).toEqual({ items: [], nextCursor: null });
        expect(await store.updateTask(id, { retries: 1 })).toBeUndefined();
        expect(
          await store.transition(id, ALL_STATUSES, { status: "PENDING" }, event(null, "PENDING", "restart")),
        ).toBeUndefined();
        expect(await store.deleteTask(id)).toBe(false);
      }
    });
  });

  describe("listActive, countByStatus, scanStatusAndName", () => {
    test("listActive: the PENDING, RUNNING and PAUSED tasks, oldest first", async () => {
      const { store } = await open();
      expect(await store.listActive()).toEqual([]);
      const seeded = await seed(store, 40);
      const active = await store.listActive();
      const expected = seeded
        .filter((task) => ["PENDING", "RUNNING", "PAUSED"].includes(task.status))
        .map((task) => task.id);
      expect(active.map((task) => task.id)).toEqual(oldestFirst(expected));
      expect(active[0]).toEqual((await store.getTask(active[0]?.id ?? "")) as TaskRecord);
    });

    test("countByStatus: every status present, zero or the number of tasks in it", async () => {
      const { store } = await open();
      const zero = Object.fromEntries(ALL_STATUSES.map((status) => [status, 0]));
      expect(await store.countByStatus()).toEqual(zero as Record<TaskStatus, number>);
      const seeded = await seed(store, 45);
      const counts = await store.countByStatus();
      for (const status of ALL_STATUSES) {
        expect({ status, count: counts[status] }).toEqual({
          status,
          count: seeded.filter((task) => task.status === status).length,
        });
        expect(typeof counts[status]).toBe("number");
      }
      expect(Object.keys(counts).sort()).toEqual([...ALL_STATUSES].sort());
    });

    test("scanStatusAndName: id, status and name in id order, in steps after the last id", async () => {
      const { store } = await open();
      expect(await store.scanStatusAndName(null, 10)).toEqual([]);
      const seeded = await seed(store, 53);
      const expected = [...seeded]
        .sort((a, b) => (a.id < b.id ? -1 : 1))
        .map(({ id, status, name }) => ({ id, status, name }));
      const scanned: Array<{ id: string; status: TaskStatus; name: string }> = [];
      let after: string | null = null;
      for (;;) {
        const step = await store.scanStatusAndName(after, 10);
        scanned.push(...step);
        if (step.length < 10) break;
        after = step.at(-1)?.id ?? null;
      }
      expect(scanned).toEqual(expected);
      expect(await store.scanStatusAndName(expected[49]?.id ?? "", 100)).toEqual(expected.slice(50));
      expect(await store.scanStatusAndName(null, 1)).toEqual(expected.slice(0, 1));
    });
  });
}
