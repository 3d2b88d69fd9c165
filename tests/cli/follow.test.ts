import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { LogJson } from "../../src/http/index.ts";
import { untilStatus } from "../helpers.ts";
import { startServer, type TestServer } from "../http/server.ts";
import { kiln, lines, start } from "./run.ts";

let server: TestServer;
let env: Record<string, string>;
beforeAll(async () => {
  server = await startServer();
  env = { KILN_URL: server.base };
});
afterAll(async () => {
  await server.stop();
});

const steps = (n: number, from = 0) => Array.from({ length: n - from }, (_, i) => `step ${from + i}`);

/** The message part of `<iso time> <level> <message>` lines. */
function messages(stdout: string): string[] {
  return lines(stdout).map((line) => {
    const match = /^\d{4}-\d\d-\d\dT[\d:.]+Z (debug|info |warn |error) (.*)$/.exec(line);
    if (!match) throw new Error(`not a log line: ${line}`);
    return match[2] as string;
  });
}

describe("logs", () => {
  let id: string;
  beforeAll(async () => {
    const { task } = await server.manager.create("steps", { steps: 6, delayMs: 0 });
    await untilStatus(server.manager, task.id, ["FINISHED"]);
    id = task.id;
  });

  test("prints every line, oldest first", async () => {
    const run = await kiln(["logs", id], env);
    expect(run.code).toBe(0);
    expect(messages(run.stdout)).toEqual(steps(6));
  });

  test("--limit N prints the last N lines", async () => {
    const run = await kiln(["logs", id, "--limit", "2"], env);
    expect(messages(run.stdout)).toEqual(["step 4", "step 5"]);
    const more = await kiln(["logs", id, "--limit", "10"], env);
    expect(messages(more.stdout)).toEqual(steps(6));
  });

  test("--json prints one server log item per line", async () => {
    const run = await kiln(["logs", id, "--json"], env);
    const items = lines(run.stdout).map((line) => JSON.parse(line) as LogJson);
    const history = (await server.manager.logs(id, { limit: 500 })).items;
    expect(items.map((item) => item.id)).toEqual(history.map((log) => log.id));
    expect(items[0]).toMatchObject({ level: "info", message: "step 0" });
  });

  test("an unknown task is exit 1 (task_not_found), with or without --follow", async () => {
    for (const args of [
      ["logs", "no-such-id"],
      ["logs", "no-such-id", "--follow"],
    ]) {
      const run = await kiln(args, env);
      expect(run.code).toBe(1);
      expect(run.stderr).toBe("kiln: no task with id no-such-id (task_not_found)\n");
    }
  });

  test("--follow on a task that already ended prints its lines and exits 0", async () => {
    const run = await kiln(["logs", id, "--follow"], env);
    expect(run.code).toBe(0);
    expect(messages(run.stdout)).toEqual(steps(6));
  });
});

describe("logs --follow", () => {
  test("joins a running task: earlier lines, then new ones, each once, until it finishes", async () => {
    const { manager } = server;
    const { task } = await manager.create("steps", { steps: 40, delayMs: 40 });
    await manager.waitFor(task.id, (t) => (t.progress?.done ?? 0) >= 3);
    const follow = start(["logs", task.id, "--follow"], env);
    await follow.waitForOutput(/step 0\n/);
    const loggedWhenJoined = (await manager.logs(task.id, { limit: 500 })).items.length;
    const run = await follow.done;
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    expect(messages(run.stdout)).toEqual(steps(40));
    expect(loggedWhenJoined).toBeLessThan(40);
    expect((await manager.require(task.id)).status).toBe("FINISHED");
  });

  test("a task logging every millisecond: no line lost or repeated across the history/stream seam", async () => {
    const { manager } = server;
    const { task } = await manager.create("steps", { steps: 600, delayMs: 1 });
    await manager.waitFor(task.id, (t) => (t.progress?.done ?? 0) >= 20);
    // Several followers joining at different moments, each with its own seam.
    const followers = [];
    for (let i = 0; i < 3; i++) {
      expect((await manager.require(task.id)).status).toBe("RUNNING");
      followers.push(start(["logs", task.id, "--follow"], env));
      await Bun.sleep(30);
    }
    for (const follower of followers) {
      const run = await follower.done;
      expect(run.code).toBe(0);
      expect(messages(run.stdout)).toEqual(steps(600));
    }
  });

  test("--limit 0 prints only lines logged after it joined", async () => {
    const { manager } = server;
    const { task } = await manager.create("steps", { steps: 30, delayMs: 40 });
    await manager.waitFor(task.id, (t) => (t.progress?.done ?? 0) >= 5);
    const run = await kiln(["logs", task.id, "--follow", "--limit", "0", "--json"], env);
    expect(run.code).toBe(0);
    const printed = lines(run.stdout).map((line) => (JSON.parse(line) as { message: string }).message);
    expect(printed).not.toContain("step 0");
    expect(printed.at(-1)).toBe("step 29");
    const first = Number(printed[0]?.slice(5));
    expect(printed).toEqual(steps(30, first));
  });

  test("exits 0 when the task is stopped", async () => {
    const { manager } = server;
    // "spin" logs one line, then loops without checkpoints until its worker is terminated.
    const { task } = await manager.create("spin", {});
    const follow = start(["logs", task.id, "-f"], env);
    await follow.waitForOutput(/spinning\n/);
    await manager.stop(task.id);
    const run = await follow.done;
    expect(run.code).toBe(0);
    expect(messages(run.stdout)).toEqual(["spinning"]);
    expect((await manager.require(task.id)).status).toBe("STOPPED");
  });
});

describe("watch", () => {
  test("redraws progress until FINISHED, then exits 0", async () => {
    const { manager } = server;
    const { task } = await manager.create("steps", { steps: 40, delayMs: 40 });
    const run = await kiln(["watch", task.id], env);
    expect(run.code).toBe(0);
    const out = lines(run.stdout);
    // Not a terminal: one plain line per change.
    expect(run.stdout).not.toContain("\r");
    const running = out.filter((line) => /^RUNNING +\[[#-]{24}\] +\d+\.\d% +step \d+$/.test(line));
    expect(running.length).toBeGreaterThan(0);
    const percents = running.map((line) => Number(/(\d+\.\d)%/.exec(line)?.[1]));
    expect(percents).toEqual(percents.toSorted((a, b) => a - b));
    expect(out.at(-2)).toBe(`FINISHED  [${"#".repeat(24)}]  100.0%  step 40`);
    expect(out.at(-1)).toMatch(new RegExp(`^task ${task.id} FINISHED in \\d`));
  });

  test("a failing task is exit 1 with its error", async () => {
    const { task } = await server.manager.create("fail", { where: "run" });
    const run = await kiln(["watch", task.id], env);
    expect(run.code).toBe(1);
    expect(lines(run.stdout).at(-1)).toMatch(
      new RegExp(`^task ${task.id} FAILED in \\S+: Error: failed in run$`),
    );
  });

  test("a task stopped while watched is exit 1", async () => {
    const { manager } = server;
    const { task } = await manager.create("hang", {});
    const watch = start(["watch", task.id], env);
    await watch.waitForOutput(/^RUNNING/m);
    await manager.stop(task.id, { reason: "not needed" });
    const run = await watch.done;
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^RUNNING +\(stop requested\)$/m);
    expect(lines(run.stdout).at(-1)).toMatch(new RegExp(`^task ${task.id} STOPPED in \\S+ \\(.+\\)$`));
  });

  test("an unknown task is exit 1; a missing id is exit 2", async () => {
    const unknown = await kiln(["watch", "no-such-id"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe("kiln: no task with id no-such-id (task_not_found)\n");
    expect((await kiln(["watch"], env)).code).toBe(2);
  });
});
