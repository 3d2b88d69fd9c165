import { describe, expect, test } from "bun:test";
import { Heap } from "../../src/engine/queue/heap.ts";
import { ReadyQueue } from "../../src/engine/queue/ready-queue.ts";
import { type QueueEntry, Scheduler } from "../../src/engine/queue/scheduler.ts";

const always = () => true;

/** A small seeded generator, so a failing randomized run can be replayed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function entry(name: string, priority = 0, runAt = 0): QueueEntry {
  return { id: Bun.randomUUIDv7(), name, priority, runAt };
}

function drain(scheduler: Scheduler, now: number, canRun: (name: string) => boolean = always): QueueEntry[] {
  const out: QueueEntry[] = [];
  for (let next = scheduler.next(canRun, now); next; next = scheduler.next(canRun, now)) out.push(next);
  return out;
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

describe("Scheduler ordering", () => {
  test("UUIDv7 ids from Bun.randomUUIDv7 sort in creation order", () => {
    const ids = Array.from({ length: 200 }, () => Bun.randomUUIDv7());
    expect([...ids].sort()).toEqual(ids);
  });

  test("higher priority first, then the older id first", () => {
    // Created in this order, so ids grow down the list.
    const a = entry("n", 0);
    const b = entry("n", 5);
    const c = entry("n", 0);
    const d = entry("n", 5);
    const e = entry("n", -3);
    const f = entry("n", 10);
    const scheduler = new Scheduler();
    for (const x of shuffled([a, b, c, d, e, f], mulberry32(1))) scheduler.enqueue(x, 0);
    expect(drain(scheduler, 0).map((x) => x.id)).toEqual([f.id, b.id, d.id, a.id, c.id, e.id]);
    expect(scheduler.size).toBe(0);
  });

  test("the same order holds across task names", () => {
    const a = entry("alpha", 1);
    const b = entry("beta", 1);
    const c = entry("gamma", 2);
    const d = entry("alpha", 0);
    const e = entry("beta", 2);
    const scheduler = new Scheduler();
    for (const x of [d, e, a, c, b]) scheduler.enqueue(x, 0);
    expect(drain(scheduler, 0).map((x) => x.id)).toEqual([c.id, e.id, a.id, b.id, d.id]);
  });

  test("randomized: drains in (priority desc, id asc) order", () => {
    const random = mulberry32(42);
    const names = ["a", "b", "c", "d"];
    const entries = Array.from({ length: 300 }, () =>
      entry(names[Math.floor(random() * names.length)] as string, Math.floor(random() * 5) - 2),
    );
    const scheduler = new Scheduler();
    for (const x of shuffled(entries, random)) scheduler.enqueue(x, 0);
    const expected = [...entries]
      .sort((x, y) => (x.priority !== y.priority ? y.priority - x.priority : x.id < y.id ? -1 : 1))
      .map((x) => x.id);
    expect(drain(scheduler, 0).map((x) => x.id)).toEqual(expected);
  });
});

describe("Scheduler concurrency filter", () => {
  test("a name at its limit is skipped without blocking the others", () => {
    const hot1 = entry("hot", 10);
    const hot2 = entry("hot", 9);
    const cold1 = entry("cold", 0);
    const cold2 = entry("cold", 0);
    const scheduler = new Scheduler();
    for (const x of [hot1, hot2, cold1, cold2]) scheduler.enqueue(x, 0);

    const notHot = (name: string) => name !== "hot";
    expect(scheduler.next(notHot, 0)?.id).toBe(cold1.id);
    expect(scheduler.next(notHot, 0)?.id).toBe(cold2.id);
    expect(scheduler.next(notHot, 0)).toBeUndefined();
    expect(scheduler.size).toBe(2);
    expect(scheduler.has(hot1.id)).toBe(true);

    // Once a slot frees, the held-back tasks come out in order.
    expect(scheduler.next(always, 0)?.id).toBe(hot1.id);
    expect(scheduler.next(always, 0)?.id).toBe(hot2.id);
    expect(scheduler.next(always, 0)).toBeUndefined();
  });

  test("canRun is asked per name and nothing runs when every name is full", () => {
    const scheduler = new Scheduler();
    scheduler.enqueue(entry("a"), 0);
    scheduler.enqueue(entry("b"), 0);
    const asked: string[] = [];
    expect(
      scheduler.next((name) => {
        asked.push(name);
        return false;
      }, 0),
    ).toBeUndefined();
    expect(asked.sort()).toEqual(["a", "b"]);
    expect(scheduler.size).toBe(2);
  });
});

describe("Scheduler delays", () => {
  test("a delayed entry is not returned before its runAt", () => {
    const scheduler = new Scheduler();
    const later = entry("n", 100, 1_000);
    scheduler.enqueue(later, 0);
    expect(scheduler.size).toBe(1);
    expect(scheduler.has(later.id)).toBe(true);
    expect(scheduler.nextDueAt()).toBe(1_000);
    expect(scheduler.next(always, 0)).toBeUndefined();
    expect(scheduler.next(always, 999)).toBeUndefined();
    expect(scheduler.next(always, 1_000)?.id).toBe(later.id);
    expect(scheduler.nextDueAt()).toBeUndefined();
    expect(scheduler.size).toBe(0);
  });

  test("a runAt in the past or equal to now is ready at once", () => {
    const scheduler = new Scheduler();
    const past = entry("n", 0, 500);
    const exact = entry("n", 0, 1_000);
    scheduler.enqueue(past, 1_000);
    scheduler.enqueue(exact, 1_000);
    expect(scheduler.nextDueAt()).toBeUndefined();
    expect(drain(scheduler, 1_000).map((x) => x.id)).toEqual([past.id, exact.id]);
  });

  test("due entries join the ready ones and compete by priority", () => {
    const scheduler = new Scheduler();
    const readyLow = entry("n", 0, 0);
    const delayedHigh = entry("n", 5, 2_000);
    const delayedLater = entry("n", 9, 3_000);
    scheduler.enqueue(readyLow, 1_000);
    scheduler.enqueue(delayedHigh, 1_000);
    scheduler.enqueue(delayedLater, 1_000);
    expect(scheduler.nextDueAt()).toBe(2_000);

    // At 2 500 the first delayed one is due and outranks the ready one; the other still waits.
    expect(scheduler.next(always, 2_500)?.id).toBe(delayedHigh.id);
    expect(scheduler.nextDueAt()).toBe(3_000);
    expect(scheduler.next(always, 2_500)?.id).toBe(readyLow.id);
    expect(scheduler.next(always, 2_500)).toBeUndefined();
    expect(scheduler.next(always, 3_000)?.id).toBe(delayedLater.id);
  });

  test("nextDueAt is the earliest runAt among delayed entries", () => {
    const scheduler = new Scheduler();
    for (const runAt of [5_000, 3_000, 9_000, 4_000]) scheduler.enqueue(entry("n", 0, runAt), 0);
    expect(scheduler.nextDueAt()).toBe(3_000);
    expect(scheduler.next(always, 3_000)?.runAt).toBe(3_000);
    expect(scheduler.nextDueAt()).toBe(4_000);
    expect(scheduler.next(always, 4_000)?.runAt).toBe(4_000);
    expect(scheduler.nextDueAt()).toBe(5_000);
    expect(scheduler.next(always, 8_999)?.runAt).toBe(5_000);
    expect(scheduler.next(always, 8_999)).toBeUndefined();
    expect(scheduler.nextDueAt()).toBe(9_000);
    expect(scheduler.next(always, 9_000)?.runAt).toBe(9_000);
    expect(scheduler.nextDueAt()).toBeUndefined();
  });

  test("once due, delayed entries run by priority and age, not by runAt", () => {
    const scheduler = new Scheduler();
    const older = entry("n", 0, 3_000);
    const newer = entry("n", 0, 1_000);
    const urgent = entry("n", 1, 2_000);
    for (const x of [newer, urgent, older]) scheduler.enqueue(x, 0);
    expect(drain(scheduler, 10_000).map((x) => x.id)).toEqual([urgent.id, older.id, newer.id]);
  });

  test("a due entry of a name at its limit stays queued", () => {
    const scheduler = new Scheduler();
    const delayed = entry("busy", 0, 100);
    scheduler.enqueue(delayed, 0);
    expect(scheduler.next((name) => name !== "busy", 200)).toBeUndefined();
    expect(scheduler.has(delayed.id)).toBe(true);
    expect(scheduler.next(always, 200)?.id).toBe(delayed.id);
  });
});

describe("Scheduler remove and re-enqueue", () => {
  test("remove takes a ready entry out of the queue", () => {
    const scheduler = new Scheduler();
    const a = entry("n", 5);
    const b = entry("n", 1);
    scheduler.enqueue(a, 0);
    scheduler.enqueue(b, 0);
    expect(scheduler.remove(a.id)).toBe(true);
    expect(scheduler.has(a.id)).toBe(false);
    expect(scheduler.size).toBe(1);
    expect(scheduler.remove(a.id)).toBe(false);
    expect(scheduler.remove("unknown")).toBe(false);
    expect(drain(scheduler, 0).map((x) => x.id)).toEqual([b.id]);
  });

  test("remove takes a delayed entry out, and nextDueAt skips it", () => {
    const scheduler = new Scheduler();
    const soon = entry("n", 0, 100);
    const late = entry("n", 0, 200);
    scheduler.enqueue(soon, 0);
    scheduler.enqueue(late, 0);
    expect(scheduler.remove(soon.id)).toBe(true);
    expect(scheduler.nextDueAt()).toBe(200);
    expect(scheduler.next(always, 150)).toBeUndefined();
    expect(drain(scheduler, 1_000).map((x) => x.id)).toEqual([late.id]);
  });

  test("removing every entry of a name leaves nothing behind", () => {
    const scheduler = new Scheduler();
    const xs = [entry("only"), entry("only"), entry("only")];
    for (const x of xs) scheduler.enqueue(x, 0);
    for (const x of xs) scheduler.remove(x.id);
    expect(scheduler.size).toBe(0);
    expect(scheduler.next(always, 0)).toBeUndefined();
    expect([...scheduler.ids()]).toEqual([]);
  });

  test("re-enqueueing an id replaces its earlier entry", () => {
    const scheduler = new Scheduler();
    const other = entry("n", 5);
    const first = entry("n", 0);
    scheduler.enqueue(other, 0);
    scheduler.enqueue(first, 0);
    const promoted: QueueEntry = { ...first, priority: 10 };
    scheduler.enqueue(promoted, 0);
    expect(scheduler.size).toBe(2);
    const out = drain(scheduler, 0);
    expect(out).toEqual([promoted, other]);
  });

  test("re-enqueue moves an entry between delayed and ready, and between names", () => {
    const scheduler = new Scheduler();
    const x = entry("a", 0, 0);
    scheduler.enqueue(x, 0);
    // Ready → delayed (a retry with backoff).
    scheduler.enqueue({ ...x, runAt: 5_000 }, 0);
    expect(scheduler.size).toBe(1);
    expect(scheduler.next(always, 0)).toBeUndefined();
    expect(scheduler.nextDueAt()).toBe(5_000);
    // Delayed → ready under another name.
    scheduler.enqueue({ ...x, name: "b", runAt: 0 }, 0);
    expect(scheduler.nextDueAt()).toBeUndefined();
    expect(scheduler.next((name) => name === "a", 10_000)).toBeUndefined();
    const got = scheduler.next(always, 10_000);
    expect(got).toEqual({ ...x, name: "b", runAt: 0 });
    expect(scheduler.next(always, 10_000)).toBeUndefined();
    expect(scheduler.size).toBe(0);
  });

  test("an id removed and queued again comes out once", () => {
    const scheduler = new Scheduler();
    const x = entry("n", 0);
    scheduler.enqueue(x, 0);
    scheduler.remove(x.id);
    scheduler.enqueue(x, 0);
    expect(drain(scheduler, 0)).toEqual([x]);
  });

  test("size, has and ids track queued entries, ready or delayed", () => {
    const scheduler = new Scheduler();
    expect(scheduler.size).toBe(0);
    const ready = entry("n");
    const delayed = entry("n", 0, 1_000);
    scheduler.enqueue(ready, 0);
    scheduler.enqueue(delayed, 0);
    expect(scheduler.size).toBe(2);
    expect(scheduler.has(ready.id)).toBe(true);
    expect(scheduler.has(delayed.id)).toBe(true);
    expect(new Set(scheduler.ids())).toEqual(new Set([ready.id, delayed.id]));
    expect(scheduler.next(always, 0)?.id).toBe(ready.id);
    expect(scheduler.has(ready.id)).toBe(false);
    expect(scheduler.size).toBe(1);
  });
});

describe("Heap", () => {
  test("pops 1,000 random numbers in sorted order", () => {
    const random = mulberry32(7);
    const values = Array.from({ length: 1_000 }, () => random() * 1_000_000);
    const heap = new Heap<number>((a, b) => a < b);
    for (const v of values) heap.push(v);
    expect(heap.size).toBe(1_000);
    const out: number[] = [];
    while (heap.size > 0) out.push(heap.pop() as number);
    expect(out).toEqual([...values].sort((a, b) => a - b));
    expect(heap.pop()).toBeUndefined();
    expect(heap.peek()).toBeUndefined();
  });

  test("matches a sorted array under interleaved pushes and pops, with duplicates", () => {
    const random = mulberry32(99);
    const heap = new Heap<number>((a, b) => a < b);
    const model: number[] = [];
    for (let step = 0; step < 5_000; step++) {
      if (model.length === 0 || random() < 0.6) {
        const v = Math.floor(random() * 50);
        heap.push(v);
        model.push(v);
        model.sort((a, b) => a - b);
      } else {
        expect(heap.pop()).toBe(model.shift() as number);
      }
      expect(heap.size).toBe(model.length);
      expect(heap.peek()).toBe(model[0] as number);
    }
  });

  test("follows the given order (a max-heap)", () => {
    const heap = new Heap<number>((a, b) => a > b);
    for (const v of [3, 1, 4, 1, 5, 9, 2, 6]) heap.push(v);
    const out: number[] = [];
    for (let v = heap.pop(); v !== undefined; v = heap.pop()) out.push(v);
    expect(out).toEqual([9, 6, 5, 4, 3, 2, 1, 1]);
  });
});

describe("ReadyQueue", () => {
  interface Item {
    priority: number;
    id: string;
    live: boolean;
  }
  const order = (a: Item, b: Item) =>
    a.priority !== b.priority ? b.priority - a.priority : a.id < b.id ? -1 : 1;

  test("matches a sorted model under interleaved pushes (mostly newest, some older), pops and removals", () => {
    const random = mulberry32(2024);
    const queue = new ReadyQueue<Item>();
    let model: Item[] = [];
    let serial = 100_000;
    // 20,000 steps, with runs long enough for the consumed front to be given back.
    for (let step = 0; step < 20_000; step++) {
      const r = random();
      if (model.length === 0 || r < 0.55) {
        // Most ids are newer than every other; one in ten is older (a retry or a resume).
        const id =
          random() < 0.9 ? String(++serial) : String(100_000 + Math.floor(random() * serial - 100_000));
        const item: Item = { priority: Math.floor(random() * 3), id: id.padStart(8, "0"), live: true };
        queue.push(item);
        model.push(item);
        model.sort(order);
      } else if (r < 0.9) {
        expect(queue.pop()).toBe(model.shift() as Item);
      } else {
        // Removed elsewhere (paused, stopped): marked dead, skipped from then on.
        const victim = model[Math.floor(random() * model.length)] as Item;
        victim.live = false;
        model = model.filter((item) => item !== victim);
      }
      expect(queue.peek()).toBe(model[0]);
    }
    while (model.length > 0) expect(queue.pop()).toBe(model.shift() as Item);
    expect(queue.pop()).toBeUndefined();
    expect(queue.peek()).toBeUndefined();
  });
});
