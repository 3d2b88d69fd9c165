// The signal handling of `kiln serve` in-process; tests/reliability/shutdown-streams.test.ts
// sends the real signals to a real server.
import { expect, test } from "bun:test";
import { shutdownHandler } from "../../src/cli/shutdown.ts";
import type { Logger } from "../../src/index.ts";

function recorder() {
  const lines: string[] = [];
  const log =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      lines.push(`${level} ${message} ${JSON.stringify(fields)}`);
  const logger: Logger = { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
  const exits: number[] = [];
  let exited: (code: number) => void = () => {};
  const firstExit = new Promise<number>((resolve) => {
    exited = resolve;
  });
  const exit = (code: number) => {
    exits.push(code);
    exited(code);
  };
  return { lines, logger, exits, exit, firstExit };
}

test("the first signal stops cleanly and exits 0", async () => {
  const { logger, exit, exits, firstExit, lines } = recorder();
  let stops = 0;
  const onSignal = shutdownHandler({
    logger,
    exit,
    deadlineMs: 10_000,
    stop: async () => {
      stops++;
    },
  });
  onSignal("SIGTERM");
  expect(await firstExit).toBe(0);
  expect(stops).toBe(1);
  expect(exits).toEqual([0]);
  expect(lines[0]).toStartWith('info shutting down {"signal":"SIGTERM"');
  expect(lines.at(-1)).toBe('info stopped {"signal":"SIGTERM"}');
});

test("a second signal exits at once with 128 + its number, without waiting for the stop", async () => {
  const { logger, exit, exits, lines } = recorder();
  let stops = 0;
  const onSignal = shutdownHandler({
    logger,
    exit,
    deadlineMs: 10_000,
    stop: () => {
      stops++;
      return new Promise<void>(() => {}); // a stop still waiting for a task
    },
  });
  onSignal("SIGTERM");
  onSignal("SIGINT");
  expect(exits).toEqual([130]);
  onSignal("SIGTERM");
  expect(exits).toEqual([130, 143]);
  expect(stops).toBe(1);
  expect(lines[1]).toStartWith(
    "warn second signal: exiting now; running tasks are restored on the next start",
  );
});

test("a stop that passes the deadline is given up: kiln exits 1 with an error line", async () => {
  const { logger, exit, firstExit, lines } = recorder();
  const onSignal = shutdownHandler({ logger, exit, deadlineMs: 50, stop: () => new Promise<void>(() => {}) });
  onSignal("SIGINT");
  expect(await firstExit).toBe(1);
  expect(lines.at(-1)).toStartWith("error shutdown did not finish in time");
});

test("a stop that fails exits 1 and says why", async () => {
  const { logger, exit, firstExit, lines } = recorder();
  const onSignal = shutdownHandler({
    logger,
    exit,
    deadlineMs: 10_000,
    stop: () => Promise.reject(new Error("the disk is gone")),
  });
  onSignal("SIGTERM");
  expect(await firstExit).toBe(1);
  expect(lines.at(-1)).toBe('error shutdown failed {"signal":"SIGTERM","error":"Error: the disk is gone"}');
});
