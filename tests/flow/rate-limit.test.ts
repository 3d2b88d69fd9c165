import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  checkRateLimit,
  decideRateLimit,
  MAX_RATE_COUNT,
  MAX_RATE_PER_MS,
  RateLimiter,
} from "../../src/flow/index.ts";

function errorsOf(declaration: unknown) {
  const checked = checkRateLimit(declaration);
  if (checked.ok) throw new Error(`expected errors, got ${JSON.stringify(checked.rule)}`);
  return checked.errors;
}

describe("checking static rateLimit", () => {
  test("none is no limit; count and perMs make a name-wide limit; key a keyed one", () => {
    expect(checkRateLimit(undefined)).toEqual({ ok: true, rule: null });
    expect(checkRateLimit({ count: 10, perMs: 60_000 })).toEqual({
      ok: true,
      rule: { count: 10, perMs: 60_000, key: null },
    });
    const key = (params: unknown) => (params as { customer: string }).customer;
    const checked = checkRateLimit({ count: 1, perMs: 1, key });
    expect(checked.ok && checked.rule?.key).toBe(key);
    expect(checkRateLimit({ count: MAX_RATE_COUNT, perMs: MAX_RATE_PER_MS }).ok).toBe(true);
  });

  test("count and perMs are integers within their caps; each problem names its field", () => {
    for (const count of [0, -1, 1.5, MAX_RATE_COUNT + 1, "10", null, Number.NaN]) {
      expect(errorsOf({ count, perMs: 1_000 }).map((error) => error.field)).toEqual(["rateLimit.count"]);
    }
    for (const perMs of [0, 0.5, MAX_RATE_PER_MS + 1, "1s", undefined]) {
      expect(errorsOf({ count: 1, perMs }).map((error) => error.field)).toEqual(["rateLimit.perMs"]);
    }
    expect(errorsOf({ count: 0, perMs: 0 })).toEqual([
      { field: "rateLimit.count", message: "must be an integer from 1 to 10,000, got 0" },
      { field: "rateLimit.perMs", message: "must be an integer from 1 to 86,400,000, got 0 (ms)" },
    ]);
  });

  test("key must be a function; a misspelled field names the one meant; a non-object is refused", () => {
    expect(errorsOf({ count: 1, perMs: 1, key: "customer" })).toEqual([
      {
        field: "rateLimit.key",
        message: 'must be a function of the params returning a string, got "customer"',
      },
    ]);
    expect(errorsOf({ count: 1, perSecond: 1 })).toEqual([
      {
        field: "rateLimit.perSecond",
        message: "is not a field (allowed: count, perMs, key); did you mean perMs?",
      },
      { field: "rateLimit.perMs", message: "must be an integer from 1 to 86,400,000, got undefined (ms)" },
    ]);
    expect(errorsOf(10)[0]?.message).toBe("must be an object such as { count: 10, perMs: 60000 }, got 10");
    expect(errorsOf([{ count: 1, perMs: 1 }])[0]?.field).toBe("rateLimit");
  });
});

describe("deciding a start", () => {
  const rule = { count: 3, perMs: 1_000 };

  test("fewer than count starts in the window: start", () => {
    expect(decideRateLimit(rule, [], 5_000)).toEqual({ start: true });
    expect(decideRateLimit(rule, [4_100, 4_500], 5_000)).toEqual({ start: true });
    // Starts older than the window do not count, however many.
    expect(decideRateLimit(rule, [1, 2, 3, 4, 3_999, 4_000], 5_000)).toEqual({ start: true });
  });

  test("count starts in the window: not before the count-th newest leaves it", () => {
    const decision = decideRateLimit(rule, [4_100, 4_500, 4_900], 5_000, "acme");
    expect(decision).toEqual({
      start: false,
      notBefore: 5_100,
      reason:
        'rate limit of 3 starts per 1000 ms for key "acme" reached; may start at 1970-01-01T00:00:05.100Z',
    });
    // The window is (t - perMs, t]: at 5_099 the start at 4_100 is still in it, at 5_100 it is not.
    expect(decideRateLimit(rule, [4_100, 4_500, 4_900], 5_099).start).toBe(false);
    expect(decideRateLimit(rule, [4_100, 4_500, 4_900], 5_100)).toEqual({ start: true });
    expect(decideRateLimit({ count: 1, perMs: 60_000 }, [0], 1).start).toBe(false);
  });

  test("a name-wide limit's reason names no key", () => {
    const decision = decideRateLimit({ count: 1, perMs: 10 }, [100], 105);
    expect(decision).toMatchObject({ start: false, notBefore: 110 });
    expect(!decision.start && decision.reason).toBe(
      "rate limit of 1 start per 10 ms reached; may start at 1970-01-01T00:00:00.110Z",
    );
  });

  test("a clock that steps back opens no room: now is taken as the newest start", () => {
    // Three starts up to 10_000, then the clock reads 2_000: decided as at 10_000, so not before
    // the oldest of them (9_900) leaves the window.
    expect(decideRateLimit(rule, [9_900, 9_950, 10_000], 2_000)).toMatchObject({
      start: false,
      notBefore: 10_900,
    });
    expect(decideRateLimit(rule, [9_000, 10_000], 2_000)).toEqual({ start: true });
  });
});

describe("RateLimiter", () => {
  test("tryStart records each start it allows; keys are counted apart", () => {
    const limiter = new RateLimiter({ count: 2, perMs: 100 });
    expect(limiter.tryStart("a", 0)).toEqual({ start: true });
    expect(limiter.tryStart("a", 10)).toEqual({ start: true });
    expect(limiter.tryStart("a", 20)).toMatchObject({ start: false, notBefore: 100 });
    expect(limiter.tryStart("b", 20)).toEqual({ start: true });
    expect(limiter.starts("a")).toEqual([0, 10]);
    expect(limiter.tryStart("a", 100)).toEqual({ start: true });
    expect(limiter.starts("a")).toEqual([10, 100]);
    expect(limiter.check("a", 105)).toMatchObject({ start: false, notBefore: 110 });
  });

  test("record keeps the newest count starts, in order, whatever order they come in", () => {
    const limiter = new RateLimiter({ count: 3, perMs: 1_000 });
    for (const at of [500, 100, 900, 300, 700]) limiter.record("k", at);
    expect(limiter.starts("k")).toEqual([500, 700, 900]);
  });

  test("memory: a key is forgotten once its starts are out of the window", () => {
    const limiter = new RateLimiter({ count: 5, perMs: 1_000 });
    for (let i = 0; i < 10_000; i++) limiter.tryStart(`customer-${i}`, i * 10);
    // About 100 keys have a start in the last window (1 s at one per 10 ms); a sweep runs after
    // as many calls as the keys the previous one kept, so at most 2 × 100 + 64 are in memory.
    expect(limiter.keyCount).toBeLessThanOrEqual(2 * 101 + 64);
    expect(limiter.keyCount).toBeGreaterThanOrEqual(100);
    limiter.sweep(10_000 * 10 + 1_000);
    expect(limiter.keyCount).toBe(0);
  });

  test("property: never more than count starts in any window of perMs, per key", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 500 }),
        fc.array(fc.record({ gap: fc.nat({ max: 120 }), key: fc.constantFrom("a", "b", "c") }), {
          maxLength: 300,
        }),
        (count, perMs, attempts) => {
          const limiter = new RateLimiter({ count, perMs });
          const admitted = new Map<string, number[]>();
          let now = 0;
          for (const { gap, key } of attempts) {
            now += gap;
            const starts = admitted.get(key) ?? [];
            // Reference: the starts in (now - perMs, now], counted from the whole history.
            const inWindow = starts.filter((start) => start > now - perMs).length;
            const decision = limiter.tryStart(key, now);
            expect(decision.start).toBe(inWindow < count);
            if (decision.start) {
              starts.push(now);
              admitted.set(key, starts);
            } else {
              // The answer is tight: refused just before notBefore, and notBefore is after now.
              expect(decision.notBefore).toBeGreaterThan(now);
              expect(limiter.check(key, decision.notBefore - 1).start).toBe(false);
              expect(limiter.check(key, decision.notBefore).start).toBe(true);
            }
          }
          for (const starts of admitted.values()) {
            for (const from of starts) {
              const window = starts.filter((start) => start >= from && start < from + perMs);
              expect(window.length).toBeLessThanOrEqual(count);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test("property: a limiter fed the starts out of order and with a clock stepping back still never exceeds the limit", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 200 }),
        fc.array(fc.integer({ min: 0, max: 2_000 }), { maxLength: 200 }),
        (count, perMs, clockReadings) => {
          const limiter = new RateLimiter({ count, perMs });
          const admitted: number[] = [];
          for (const now of clockReadings) {
            if (!limiter.tryStart("k", now).start) continue;
            // The start is recorded at the newest start at least: the limiter's time never goes back.
            admitted.push(limiter.starts("k").at(-1) as number);
          }
          for (const from of admitted) {
            expect(
              admitted.filter((start) => start >= from && start < from + perMs).length,
            ).toBeLessThanOrEqual(count);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
