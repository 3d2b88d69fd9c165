import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  admittedBefore,
  checkConcurrency,
  KeyConcurrency,
  type KeyWaiter,
  MAX_KEY_CONCURRENCY,
} from "../../src/flow/index.ts";

function errorsOf(declaration: unknown) {
  const checked = checkConcurrency(declaration);
  if (checked.ok) throw new Error(`expected errors, got ${JSON.stringify(checked.rule)}`);
  return checked.errors;
}

describe("checking static concurrency", () => {
  test("a number is the per-name limit; { limit, key } a per-key one; none is no limit", () => {
    expect(checkConcurrency(undefined)).toEqual({ ok: true, rule: null });
    expect(checkConcurrency(2)).toEqual({ ok: true, rule: { kind: "name", limit: 2 } });
    const key = (params: unknown) => (params as { customer: string }).customer;
    expect(checkConcurrency({ limit: 1, key })).toEqual({ ok: true, rule: { kind: "key", limit: 1, key } });
    expect(checkConcurrency(MAX_KEY_CONCURRENCY).ok).toBe(true);
  });

  test("limits are integers from 1 to the cap, in either form", () => {
    for (const limit of [0, -2, 1.5, MAX_KEY_CONCURRENCY + 1, Number.POSITIVE_INFINITY]) {
      expect(errorsOf(limit)).toEqual([
        { field: "concurrency", message: expect.stringContaining("integer") },
      ]);
      expect(errorsOf({ limit, key: () => "k" }).map((error) => error.field)).toEqual(["concurrency.limit"]);
    }
  });

  test("the object form needs a key function and no other field", () => {
    expect(errorsOf({ limit: 1 })).toEqual([
      {
        field: "concurrency.key",
        message: "is required in the object form; for one limit over the whole task name, give a number",
      },
    ]);
    expect(errorsOf({ limit: 1, key: "customer" })[0]?.message).toBe(
      'must be a function of the params returning a string, got "customer"',
    );
    expect(errorsOf({ max: 1, key: () => "k" }).map((error) => error.field)).toEqual([
      "concurrency.max",
      "concurrency.limit",
    ]);
    expect(errorsOf({ max: 1, key: () => "k" })[0]?.message).toContain("did you mean limit?");
    expect(errorsOf("2")[0]?.message).toBe('must be a number or { limit, key: (params) => string }, got "2"');
  });
});

describe("KeyConcurrency", () => {
  test("tryAcquire takes a slot while fewer than limit are held; release gives it back", () => {
    const slots = new KeyConcurrency(2);
    expect(slots.tryAcquire("acme")).toBe(true);
    expect(slots.tryAcquire("acme")).toBe(true);
    expect(slots.tryAcquire("acme")).toBe(false);
    expect(slots.running("acme")).toBe(2);
    expect(slots.tryAcquire("globex")).toBe(true);
    slots.release("acme");
    expect(slots.canAcquire("acme")).toBe(true);
    expect(slots.tryAcquire("acme")).toBe(true);
  });

  test("a release without a slot held is a bug, not a silent miscount", () => {
    const slots = new KeyConcurrency(1);
    expect(() => slots.release("acme")).toThrow('release of key "acme", which holds no slot');
    slots.tryAcquire("acme");
    slots.release("acme");
    expect(() => slots.release("acme")).toThrow();
    expect(() => new KeyConcurrency(0)).toThrow(RangeError);
  });

  test("waiting tasks are admitted by priority, then oldest id first, whatever order they queued in", () => {
    const slots = new KeyConcurrency(1);
    expect(slots.tryAcquire("acme")).toBe(true);
    for (const waiter of [
      { id: "0003", priority: 0 },
      { id: "0001", priority: 0 },
      { id: "0004", priority: 5 },
      { id: "0002", priority: -1 },
    ]) {
      slots.enqueue("acme", waiter);
    }
    // The slot is held: nobody is admitted.
    expect(slots.admitNext("acme")).toBeUndefined();
    const order: string[] = [];
    for (let next = slots.peek("acme"); next; next = slots.peek("acme")) {
      slots.release("acme");
      const admitted = slots.admitNext("acme");
      expect(admitted).toEqual(next);
      order.push(admitted?.id as string);
    }
    expect(order).toEqual(["0004", "0001", "0003", "0002"]);
  });

  test("remove takes a waiting task out; enqueueing again moves it to its new place", () => {
    const slots = new KeyConcurrency(1);
    slots.tryAcquire("k");
    slots.enqueue("k", { id: "a", priority: 0 });
    slots.enqueue("k", { id: "b", priority: 0 });
    slots.enqueue("k", { id: "a", priority: -5 });
    expect(slots.waiting("k")).toBe(2);
    expect(slots.peek("k")?.id).toBe("b");
    expect(slots.remove("b")).toBe(true);
    expect(slots.remove("b")).toBe(false);
    expect(slots.peek("k")?.id).toBe("a");
  });

  test("a key with no slot held and nobody waiting is forgotten", () => {
    const slots = new KeyConcurrency(1);
    for (let i = 0; i < 1_000; i++) {
      slots.tryAcquire(`customer-${i}`);
      slots.enqueue(`customer-${i}`, { id: `t${i}`, priority: 0 });
    }
    expect(slots.keyCount).toBe(1_000);
    for (let i = 0; i < 1_000; i++) {
      slots.release(`customer-${i}`);
      slots.admitNext(`customer-${i}`);
      slots.release(`customer-${i}`);
    }
    expect(slots.keyCount).toBe(0);
  });

  test("property: a key never holds more than limit slots, and admission follows the order", () => {
    const operation = fc.oneof(
      fc.record({ op: fc.constant("acquire" as const), key: fc.constantFrom("a", "b") }),
      fc.record({ op: fc.constant("release" as const), key: fc.constantFrom("a", "b") }),
      fc.record({
        op: fc.constant("enqueue" as const),
        key: fc.constantFrom("a", "b"),
        id: fc.integer({ min: 0, max: 40 }).map((n) => `t${String(n).padStart(2, "0")}`),
        priority: fc.integer({ min: -2, max: 2 }),
      }),
      fc.record({
        op: fc.constant("remove" as const),
        id: fc.integer({ min: 0, max: 40 }).map((n) => `t${String(n).padStart(2, "0")}`),
      }),
      fc.record({ op: fc.constant("admit" as const), key: fc.constantFrom("a", "b") }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.array(operation, { maxLength: 200 }),
        (limit, operations) => {
          const slots = new KeyConcurrency(limit);
          // A model: the slots held and who waits, per key.
          const held = new Map<string, number>();
          const waiting = new Map<string, { key: string; waiter: KeyWaiter }>();
          for (const step of operations) {
            if (step.op === "acquire") {
              const taken = slots.tryAcquire(step.key);
              expect(taken).toBe((held.get(step.key) ?? 0) < limit);
              if (taken) held.set(step.key, (held.get(step.key) ?? 0) + 1);
            } else if (step.op === "release") {
              if ((held.get(step.key) ?? 0) === 0) {
                expect(() => slots.release(step.key)).toThrow();
              } else {
                slots.release(step.key);
                held.set(step.key, (held.get(step.key) ?? 0) - 1);
              }
            } else if (step.op === "enqueue") {
              slots.enqueue(step.key, { id: step.id, priority: step.priority });
              waiting.set(step.id, { key: step.key, waiter: { id: step.id, priority: step.priority } });
            } else if (step.op === "remove") {
              expect(slots.remove(step.id)).toBe(waiting.delete(step.id));
            } else {
              const candidates = [...waiting.values()].filter((entry) => entry.key === step.key);
              const best = candidates.reduce<KeyWaiter | undefined>(
                (first, { waiter }) =>
                  first === undefined || admittedBefore(waiter, first) ? waiter : first,
                undefined,
              );
              const admitted = slots.admitNext(step.key);
              if (best === undefined || (held.get(step.key) ?? 0) >= limit) {
                expect(admitted).toBeUndefined();
              } else {
                expect(admitted).toEqual(best);
                waiting.delete(best.id);
                held.set(step.key, (held.get(step.key) ?? 0) + 1);
              }
            }
            for (const key of ["a", "b"]) {
              expect(slots.running(key)).toBe(held.get(key) ?? 0);
              expect(slots.running(key)).toBeLessThanOrEqual(limit);
              expect(slots.waiting(key)).toBe(
                [...waiting.values()].filter((entry) => entry.key === key).length,
              );
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
