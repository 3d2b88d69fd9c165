import { describe, expect, test } from "bun:test";
import { retryDelayMs } from "../../src/engine/queue/backoff.ts";

const policy = { attempts: 10, backoffMs: 1_000, maxBackoffMs: 20_000 };
const low = () => 0;
const high = () => 0.999;

describe("retryDelayMs", () => {
  test("grows exponentially from backoffMs", () => {
    // With random = 0 the delay is exactly half of backoffMs · 2^(retry-1).
    expect([1, 2, 3, 4, 5].map((r) => retryDelayMs(policy, r, low))).toEqual([
      500, 1_000, 2_000, 4_000, 8_000,
    ]);
    // With random ≈ 1 it is (almost) the full exponential value.
    const highs = [1, 2, 3, 4, 5].map((r) => retryDelayMs(policy, r, high));
    expect(highs).toEqual([1_000, 1_999, 3_998, 7_996, 15_992]);
    for (let i = 1; i < highs.length; i++) expect(highs[i] as number).toBeGreaterThan(highs[i - 1] as number);
  });

  test("is capped by maxBackoffMs", () => {
    // 1 000 · 2^5 = 32 000 > 20 000: capped from the sixth retry on.
    for (const retry of [6, 7, 10, 30, 100, 2_000]) {
      expect(retryDelayMs(policy, retry, low)).toBe(10_000);
      expect(retryDelayMs(policy, retry, high)).toBe(19_990);
      const delay = retryDelayMs(policy, retry);
      expect(Number.isFinite(delay)).toBe(true);
      expect(delay).toBeLessThanOrEqual(20_000);
    }
  });

  test("stays within [half, full] of the exponential value", () => {
    for (let retry = 1; retry <= 12; retry++) {
      const full = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** (retry - 1));
      for (const random of [low, high, () => 0.5, () => 0.25, Math.random]) {
        const delay = retryDelayMs(policy, retry, random);
        expect(delay).toBeGreaterThanOrEqual(full / 2);
        expect(delay).toBeLessThanOrEqual(full);
        expect(Number.isInteger(delay)).toBe(true);
      }
      expect(retryDelayMs(policy, retry, low)).toBe(full / 2);
      expect(retryDelayMs(policy, retry, high)).toBeGreaterThanOrEqual(Math.floor(full * 0.999));
    }
  });

  test("a retry number below 1 is treated as the first retry", () => {
    expect(retryDelayMs(policy, 0, low)).toBe(500);
    expect(retryDelayMs(policy, -5, high)).toBe(1_000);
  });

  test("a cap below backoffMs caps the first retry too", () => {
    const tight = { attempts: 3, backoffMs: 10_000, maxBackoffMs: 2_000 };
    expect(retryDelayMs(tight, 1, low)).toBe(1_000);
    expect(retryDelayMs(tight, 1, high)).toBe(1_999);
  });
});
