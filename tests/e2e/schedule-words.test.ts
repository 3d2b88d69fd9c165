import { expect, test } from "bun:test";
import { intervalWords, scheduleWords } from "../../src/dashboard/client/schedule-words.ts";

const cron = (expr: string, timezone: string | null = null) =>
  scheduleWords({ cron: expr, everyMs: null, timezone });

test("intervals in the largest whole unit", () => {
  expect(intervalWords(30_000)).toBe("every 30 s");
  expect(intervalWords(300_000)).toBe("every 5 min");
  expect(intervalWords(7_200_000)).toBe("every 2 h");
  expect(intervalWords(1_500)).toBe("every 1500 ms");
  expect(scheduleWords({ cron: null, everyMs: 30_000, timezone: null })).toBe("every 30 s");
});

test("common cron shapes in words, with their time zone", () => {
  expect(cron("0 3 * * *", "Europe/Berlin")).toBe("every day at 03:00 (Europe/Berlin)");
  expect(cron("30 14 * * 1")).toBe("every Monday at 14:30 (UTC)");
  expect(cron("0 0 * * 7")).toBe("every Sunday at 00:00 (UTC)");
  expect(cron("15 6 1 * *")).toBe("on day 1 of every month at 06:15 (UTC)");
  expect(cron("5 * * * *")).toBe("every hour at minute 5 (UTC)");
  expect(cron("0 0 3 * * *")).toBe("every day at 03:00 (UTC)");
  expect(cron("* * * * *")).toBe("every minute");
  expect(cron("*/15 * * * *")).toBe("every 15 minutes");
  expect(cron("*/10 * * * * *")).toBe("every 10 s");
  expect(cron("* * * * * *")).toBe("every second");
});

test("other expressions are shown as they are", () => {
  expect(cron("5 4 1-7 * 1")).toBe("cron 5 4 1-7 * 1 (UTC)");
  expect(cron("0 3 * 6 *", "Asia/Tokyo")).toBe("cron 0 3 * 6 * (Asia/Tokyo)");
  expect(cron("@daily")).toBe("cron @daily (UTC)");
  expect(cron("10 0 3 * * *")).toBe("cron 10 0 3 * * * (UTC)");
});
