import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { IDS_PER_CALL } from "../../src/cli/client/bulk.ts";
import { MAX_BULK_TASKS } from "../../src/engine/index.ts";
import type { TaskJson } from "../../src/http/index.ts";
import { api, KILN_FROM_SOURCE, type ServingKiln, serveKiln } from "../binary/kiln-process.ts";
import { tempDir } from "../helpers.ts";
import { kiln, lines } from "./run.ts";

const TOKEN = "bulk-admin-token";
const dir = tempDir("kiln-cli-bulk-");
let server: ServingKiln;
let env: Record<string, string>;

beforeAll(async () => {
  // One run at a time, so that tasks queued behind a long one stay PENDING.
  server = await serveKiln(KILN_FROM_SOURCE, ["--db", "kiln.db", "--token", TOKEN], dir.path, {
    KILN_CONCURRENCY: "1",
  });
  env = { KILN_URL: server.url, KILN_TOKEN: TOKEN };
}, 60_000);
afterAll(async () => {
  await server?.stop();
  dir.remove();
});

const IN_AN_HOUR = () => Date.now() + 3_600_000;

/** Creates `n` count tasks that wait an hour before they may start, tagged `tag`. */
async function createWaiting(n: number, tag: string): Promise<string[]> {
  const ids: string[] = [];
  for (let from = 0; from < n; from += 50) {
    const created = await Promise.all(
      Array.from({ length: Math.min(50, n - from) }, () =>
        api<TaskJson>(`${server.url}/tasks`, {
          token: TOKEN,
          json: { name: "count", params: { to: 1, delayMs: 0 }, runAt: IN_AN_HOUR(), tags: [tag] },
        }),
      ),
    );
    for (const answer of created) {
      expect(answer.status).toBe(201);
      ids.push(answer.body.id);
    }
  }
  return ids;
}

/**
 * Like `createWaiting`, one request at a time, for a test that needs to know which task is older:
 * requests sent together may reach the server in any order.
 */
async function createOneByOne(n: number, tag: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(...(await createWaiting(1, tag)));
  return ids;
}

const statusOf = async (id: string) =>
  (await api<TaskJson>(`${server.url}/tasks/${id}`, { token: TOKEN })).body.status;

describe("kiln bulk", () => {
  test("by --ids: one line per task with its new status, a summary, exit 0", async () => {
    const ids = await createWaiting(3, "by-ids");
    const run = await kiln(["bulk", "pause", "--ids", `${ids[0]},${ids[1]}`, "--ids", ids[2] as string], env);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(lines(run.stdout)).toEqual([
      ...ids.map((id) => `${id} PAUSED`),
      "pause: 3 tasks, 3 succeeded, 0 failed",
    ]);
    for (const id of ids) expect(await statusOf(id)).toBe("PAUSED");
  });

  test("a refused task is its own line with the server's reason and code; the others go on; exit 1", async () => {
    const [pending, paused] = (await createWaiting(2, "mixed")) as [string, string];
    expect((await kiln(["pause", paused], env)).code).toBe(0);
    const run = await kiln(["bulk", "resume", "--ids", `${paused},no-such-task,${pending}`], env);
    expect(run.code).toBe(1);
    const [first, second, third, last] = lines(run.stdout);
    expect(first).toBe(`${paused} PENDING`);
    expect(second).toMatch(/^no-such-task refused: .+ \(task_not_found\)$/);
    expect(third).toMatch(new RegExp(`^${pending} refused: .+ \\(illegal_transition\\)$`));
    expect(last).toBe("resume: 3 tasks, 1 succeeded, 2 failed");
    expect(await statusOf(pending)).toBe("PENDING");
  });

  test("by filter: without --all it acts on one call's worth and prints the cursor; --cursor goes on; --all does every call", async () => {
    expect(IDS_PER_CALL).toBe(MAX_BULK_TASKS);
    const ids = [...(await createOneByOne(5, "many")), ...(await createWaiting(MAX_BULK_TASKS, "many"))];

    const first = await kiln(
      ["bulk", "stop", "--tag", "many", "--status", "pending", "--reason", "cleanup"],
      env,
    );
    expect(first.code).toBe(0);
    const out = lines(first.stdout);
    expect(out).toHaveLength(MAX_BULK_TASKS + 2);
    expect(out.at(-2)).toBe(`stop: ${MAX_BULK_TASKS} tasks, ${MAX_BULK_TASKS} succeeded, 0 failed`);
    const hint = /^more tasks match: add --all, or go on with --cursor (\S+)$/.exec(out.at(-1) as string);
    expect(hint).not.toBeNull();
    // Newest first: the 5 oldest are left.
    const left = ids.slice(0, 5);
    for (const id of left) expect(await statusOf(id)).toBe("PENDING");
    expect(await statusOf(ids.at(-1) as string)).toBe("STOPPED");

    const rest = await kiln(["bulk", "stop", "--tag", "many", "--cursor", hint?.[1] as string], env);
    expect(rest.code).toBe(0);
    expect(lines(rest.stdout)).toEqual([
      ...[...left].reverse().map((id) => `${id} STOPPED`),
      "stop: 5 tasks, 5 succeeded, 0 failed",
    ]);

    // --all: the 1005 stopped tasks are deleted in two calls.
    const all = await kiln(["bulk", "delete", "--tag", "many", "--all"], env);
    expect(all.code).toBe(0);
    const deleted = lines(all.stdout);
    expect(deleted.at(-1)).toBe(`delete: ${ids.length} tasks, ${ids.length} succeeded, 0 failed in 2 calls`);
    expect(new Set(deleted.slice(0, -1))).toEqual(new Set(ids.map((id) => `${id} deleted`)));
    const listed = await api<{ items: unknown[] }>(`${server.url}/tasks?tag=many`, { token: TOKEN });
    expect(listed.body.items).toEqual([]);
  }, 60_000);

  test("--json prints each call's answer from the server, one per line", async () => {
    const ids = await createOneByOne(2, "json");
    const run = await kiln(["bulk", "stop", "--tag", "json", "--all", "--json"], env);
    expect(run.code).toBe(0);
    const answers = lines(run.stdout).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(answers).toEqual([
      {
        action: "stop",
        results: [...ids].reverse().map((id) => ({ id, ok: true, status: "STOPPED", requestedAction: null })),
        succeeded: 2,
        failed: 0,
        truncated: false,
        nextCursor: null,
      },
    ]);
  });

  test("a filter that matches nothing says so and exits 0; a running task's stop waits for its checkpoint", async () => {
    const none = await kiln(["bulk", "restart", "--name", "no-such-name"], env);
    expect(none.code).toBe(0);
    expect(lines(none.stdout)).toEqual(["restart: no tasks matched"]);

    const running = await api<TaskJson>(`${server.url}/tasks`, {
      token: TOKEN,
      json: { name: "count", params: { to: 10_000, delayMs: 50 }, tags: ["running"] },
    });
    const id = running.body.id;
    for (let i = 0; i < 300 && (await statusOf(id)) !== "RUNNING"; i++) await Bun.sleep(50);
    const run = await kiln(["bulk", "stop", "--tag", "running", "--status", "RUNNING"], env);
    expect(run.code).toBe(0);
    expect(lines(run.stdout)).toEqual([
      `${id} RUNNING (stop at its next checkpoint)`,
      "stop: 1 task, 1 succeeded, 0 failed",
    ]);
    for (let i = 0; i < 300 && (await statusOf(id)) !== "STOPPED"; i++) await Bun.sleep(50);
    expect(await statusOf(id)).toBe("STOPPED");
  }, 30_000);

  test("the token comes from the same flags and env as every client command; without it, the server's 401 and exit 1", async () => {
    const [id] = (await createWaiting(1, "auth")) as [string];
    const withoutToken = await kiln(["bulk", "pause", "--ids", id], { KILN_URL: server.url });
    expect(withoutToken.code).toBe(1);
    expect(withoutToken.stdout).toBe("");
    expect(withoutToken.stderr).toMatch(/^kiln: .+ \(unauthorized\)\n$/);
    const withFlag = await kiln(["bulk", "pause", "--ids", id, "--url", server.url, "--token", TOKEN]);
    expect(withFlag.code).toBe(0);
    expect(await statusOf(id)).toBe("PAUSED");
  });

  test("usage mistakes are exit 2 with the usage line, and nothing is sent", async () => {
    const [id] = (await createWaiting(1, "usage")) as [string];
    const cases: Array<{ args: string[]; message: string }> = [
      { args: ["bulk", "pause"], message: "say which tasks: --ids, or a filter (--status, --name, --tag)" },
      { args: ["bulk", "pause", "--ids", id, "--tag", "usage"], message: "give --ids or a filter" },
      { args: ["bulk", "pause", "--ids", id, "--all"], message: "--all and --cursor go with a filter" },
      {
        args: ["bulk", "pause", "--ids", `${id},,x`],
        message: "--ids must be task ids separated by commas, with none empty",
      },
      {
        args: ["bulk", "frobnicate", "--ids", id],
        message: 'the action must be one of pause, resume, stop, restart, delete, got "frobnicate"',
      },
      { args: ["bulk", "--ids", id], message: "missing the action" },
      { args: ["bulk", "pause", "--status", "sleeping"], message: "--status must be one of" },
    ];
    for (const { args, message } of cases) {
      const run = await kiln(args, env);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`kiln: ${message}`);
      expect(run.stderr).toContain("usage: kiln bulk <pause|resume|stop|restart|delete>");
    }
    expect(await statusOf(id)).toBe("PENDING");
  });
});
