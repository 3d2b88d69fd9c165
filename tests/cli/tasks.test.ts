import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TaskJson, TaskTypeJson } from "../../src/http/index.ts";
import { untilStatus } from "../helpers.ts";
import { type ApiError, body, startServer, type TestServer } from "../http/server.ts";
import { kiln, lines } from "./run.ts";

let server: TestServer;
let env: Record<string, string>;
beforeAll(async () => {
  server = await startServer();
  env = { KILN_URL: server.base };
});
afterAll(async () => {
  await server.stop();
});

const api = async <T>(path: string, init?: RequestInit & { json?: unknown }) =>
  body<T>(await server.call(path, init));

/** The id the CLI printed first on stdout. */
const firstWord = (stdout: string) => stdout.split(/\s/)[0] as string;

describe("types", () => {
  test("a table with each task name, its concurrency and a summary of its params", async () => {
    const run = await kiln(["types"], env);
    expect(run.code).toBe(0);
    const [header, ...rows] = lines(run.stdout);
    expect(header).toMatch(/^NAME +CONCURRENCY +PAUSED +PARAMS +DESCRIPTION$/);
    const { items } = await api<{ items: TaskTypeJson[] }>("/task-types");
    expect(rows.map((row) => row.split(/ +/)[0])).toEqual(items.map((type) => type.name));
    expect(rows.find((row) => row.startsWith("steps "))).toMatch(
      /^steps +- +- +steps: integer, delayMs\?: integer = 5$/,
    );
    expect(rows.find((row) => row.startsWith("hold "))).toMatch(/^hold +1 +- +any$/);
    expect(rows.find((row) => row.startsWith("fail "))).toContain(
      'where: "pre"|"run"|"post", value?: string',
    );
  });

  test("types pause and resume a whole name; the table shows it paused meanwhile", async () => {
    const paused = await kiln(["types", "pause", "echo", "--running"], env);
    expect(paused.code).toBe(0);
    expect(paused.stdout.trim()).toBe("echo paused (0 running asked to pause)");
    const listed = await kiln(["types"], env);
    expect(lines(listed.stdout).find((row) => row.startsWith("echo "))).toMatch(/^echo +- +paused /);
    const resumed = await kiln(["types", "resume", "echo"], env);
    expect(resumed.stdout.trim()).toBe("echo resumed");
    const again = await kiln(["types", "resume", "echo"], env);
    expect(again.stdout.trim()).toBe("echo was not paused");
    const missing = await kiln(["types", "pause"], env);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("missing the task name");
  });

  test("--json prints the server's answer", async () => {
    const run = await kiln(["types", "--json"], env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(await api("/task-types"));
  });
});

describe("submit", () => {
  test("creates the task with its params, priority, tags and key; prints its id and status", async () => {
    const run = await kiln(
      [
        "submit",
        "echo",
        "--params",
        '{"value":42}',
        "--priority",
        "3",
        "--tag",
        "a",
        "--tag",
        "b",
        "--key",
        "k-1",
      ],
      env,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\S+ PENDING\n$/);
    const id = firstWord(run.stdout);
    const task = await api<TaskJson>(`/tasks/${id}`);
    expect(task).toMatchObject({ name: "echo", params: { value: 42 }, priority: 3, tags: ["a", "b"] });

    const again = await kiln(["submit", "echo", "--params", '{"value":42}', "--key", "k-1"], env);
    expect(again.code).toBe(0);
    expect(firstWord(again.stdout)).toBe(id);
    expect(again.stdout).toContain('(already submitted with key "k-1")');
  });

  test("--run-at takes epoch milliseconds or an ISO date-time", async () => {
    const at = Date.now() + 3_600_000;
    const ms = await kiln(["submit", "echo", "--params", '{"value":1}', "--run-at", String(at)], env);
    expect(ms.code).toBe(0);
    expect((await api<TaskJson>(`/tasks/${firstWord(ms.stdout)}`)).runAt).toBe(new Date(at).toISOString());
    const iso = await kiln(
      ["submit", "echo", "--params", '{"value":1}', "--run-at", "2099-01-02T03:04:05Z"],
      env,
    );
    expect(iso.code).toBe(0);
    expect((await api<TaskJson>(`/tasks/${firstWord(iso.stdout)}`)).runAt).toBe("2099-01-02T03:04:05.000Z");
    const bad = await kiln(["submit", "echo", "--run-at", "next tuesday"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toStartWith(
      'kiln: --run-at must be an ISO 8601 date-time or epoch milliseconds, got "next tuesday"',
    );
  });

  test("--json prints the created task as the server sent it", async () => {
    const run = await kiln(["submit", "echo", "--params", '{"value":"x"}', "--json"], env);
    expect(run.code).toBe(0);
    const task = JSON.parse(run.stdout) as TaskJson;
    expect(task).toMatchObject({ name: "echo", status: "PENDING", params: { value: "x" } });
    expect(await api<TaskJson>(`/tasks/${task.id}`)).toMatchObject({ id: task.id, name: "echo" });
  });

  test("bad --params JSON is exit 2 and creates nothing", async () => {
    const before = await api<{ items: TaskJson[] }>("/tasks?limit=500");
    const run = await kiln(["submit", "echo", "--params", "{value: 1"], env);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toStartWith("kiln: --params is not valid JSON: ");
    expect(run.stderr).toContain("\nusage: kiln submit <name>");
    expect((await api<{ items: TaskJson[] }>("/tasks?limit=500")).items.length).toBe(before.items.length);
  });

  test("an unknown task name is exit 1 with the server's message and code", async () => {
    const expected = await api<ApiError>("/tasks", { json: { name: "no-such-task" } });
    const run = await kiln(["submit", "no-such-task"], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(`kiln: ${expected.error.message} (unknown_task_name)\n`);
  });

  test("params that fail the task's schema are exit 1 (invalid_params)", async () => {
    const run = await kiln(["submit", "steps", "--params", '{"steps":"many"}'], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^kiln: params of "steps" do not match its schema.*\(invalid_params\)\n$/);
  });

  test("a missing name or a non-integer priority is exit 2", async () => {
    expect((await kiln(["submit"], env)).stderr).toStartWith("kiln: missing the task name\n");
    const priority = await kiln(["submit", "echo", "--priority", "high"], env);
    expect(priority.code).toBe(2);
    expect(priority.stderr).toStartWith("kiln: --priority must be an integer");
  });
});

describe("ls and show", () => {
  let finished: string[];
  let running: string;
  let failed: string;
  beforeAll(async () => {
    const { manager } = server;
    finished = [];
    for (const value of [1, 2]) {
      const { task } = await manager.create("echo", { value }, { tags: ["listing"] });
      await untilStatus(manager, task.id, ["FINISHED"]);
      finished.push(task.id);
    }
    const hang = (await manager.create("hang", {}, { tags: ["listing"] })).task;
    await untilStatus(manager, hang.id, ["RUNNING"]);
    running = hang.id;
    const fail = (await manager.create("fail", { where: "run" }, { tags: ["failing"] })).task;
    await untilStatus(manager, fail.id, ["FAILED"]);
    failed = fail.id;
  });
  afterAll(async () => {
    await server.manager.stop(running);
    await untilStatus(server.manager, running, ["STOPPED"]);
  });

  test("a table of tasks, newest first; --status filters (any case)", async () => {
    const all = await kiln(["ls", "--tag", "listing"], env);
    expect(all.code).toBe(0);
    const [header, ...rows] = lines(all.stdout);
    expect(header).toMatch(
      /^ID +NAME +TAGS +STATUS +PROGRESS +ATTEMPT +RUN AT \(UTC\) +CREATED \(UTC\) +DURATION$/,
    );
    expect(rows.map(firstWord)).toEqual([running, ...finished.toReversed()]);
    expect(rows[0]).toMatch(/^\S+ +hang +listing +RUNNING +- +1 +- +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +\S+$/);
    expect(all.stderr).toBe("");

    const done = await kiln(["ls", "--tag", "listing", "--status", "finished"], env);
    expect(lines(done.stdout).slice(1).map(firstWord)).toEqual(finished.toReversed());
    expect(done.stdout).not.toContain(running);
  });

  test("each row shows the task's tags and the time it may start (run at)", async () => {
    const runAt = Date.parse("2099-01-02T03:04:05Z");
    const { task } = await server.manager.create("echo", { value: 3 }, { tags: ["later", "nightly"], runAt });
    try {
      const run = await kiln(["ls", "--tag", "later"], env);
      expect(run.code).toBe(0);
      const [, row] = lines(run.stdout);
      expect(row).toMatch(
        new RegExp(
          `^${task.id} +echo +later,nightly +PENDING +- +1 +2099-01-02 03:04:05 +\\d{4}-\\d\\d-\\d\\d \\S+ +-$`,
        ),
      );
    } finally {
      await server.manager.stop(task.id);
    }
  });

  test("--json prints the server's page", async () => {
    const run = await kiln(["ls", "--json", "--name", "echo", "--tag", "listing"], env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(await api("/tasks?name=echo&tag=listing"));
  });

  test("--param, --created-*, --ended-* filter; a next-page hint keeps them; bad ones are refused", async () => {
    const byParam = await kiln(["ls", "--tag", "listing", "--param", "value=2"], env);
    expect(byParam.code).toBe(0);
    expect(lines(byParam.stdout).slice(1).map(firstWord)).toEqual([finished[1] as string]);
    const first = await server.manager.require(finished[0] as string);
    const since = new Date(first.endTime ?? 0).toISOString();
    const ended = await kiln(["ls", "--tag", "listing", "--ended-after", since, "--limit", "1"], env);
    expect(lines(ended.stdout).slice(1).map(firstWord)).toEqual([finished[1] as string]);
    expect(ended.stderr.trim()).toBe(
      `more: kiln ls --tag listing --ended-after ${since} --limit 1 --cursor ${finished[1]}`,
    );
    const created = await kiln(
      ["ls", "--tag", "listing", "--created-before", String(first.createdAt + 1)],
      env,
    );
    expect(lines(created.stdout).slice(1).map(firstWord)).toEqual([finished[0] as string]);
    const noEquals = await kiln(["ls", "--param", "value"], env);
    expect(noEquals.code).toBe(2);
    expect(noEquals.stderr).toStartWith(
      'kiln: --param needs PATH=VALUE (customerId=c-42, order.id=7), got "value"',
    );
    const badTime = await kiln(["ls", "--ended-after", "yesterday"], env);
    expect(badTime.code).toBe(1);
    expect(badTime.stderr).toContain("endedAfter must be epoch milliseconds or an ISO 8601 date-time");
  });

  test("--limit pages, with a hint on stderr that fetches the next page", async () => {
    const first = await kiln(["ls", "--tag", "listing", "--limit", "2"], env);
    expect(first.code).toBe(0);
    expect(lines(first.stdout).slice(1).map(firstWord)).toEqual([running, finished[1] as string]);
    const hint = first.stderr.trim();
    expect(hint).toBe(`more: kiln ls --tag listing --limit 2 --cursor ${finished[1]}`);
    const next = await kiln([...hint.replace(/^more: kiln /, "").split(" ")], env);
    expect(lines(next.stdout).slice(1).map(firstWord)).toEqual([finished[0] as string]);
    expect(next.stderr).toBe("");
  });

  test("an empty page says so; a bad --status or --limit is exit 2", async () => {
    const none = await kiln(["ls", "--tag", "nothing-has-this-tag"], env);
    expect(none).toEqual({ code: 0, stdout: "no tasks\n", stderr: "" });
    const status = await kiln(["ls", "--status", "DONE"], env);
    expect(status.code).toBe(2);
    expect(status.stderr).toStartWith(
      'kiln: --status must be one of PENDING, RUNNING, PAUSED, FINISHED, FAILED, STOPPED, got "DONE"',
    );
    expect((await kiln(["ls", "--limit", "0"], env)).code).toBe(2);
  });

  test("show: one task as a key/value block, with its result", async () => {
    const id = finished[0] as string;
    const run = await kiln(["show", id], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^id +${id}$`, "m"));
    expect(run.stdout).toMatch(/^name +echo$/m);
    expect(run.stdout).toMatch(/^status +FINISHED$/m);
    expect(run.stdout).toMatch(/^tags +listing$/m);
    expect(run.stdout).toMatch(/^params +\{"value":1\}$/m);
    expect(run.stdout).toMatch(/^result +\{"value":1\}$/m);
    expect(run.stdout).toMatch(/^duration +\d/m);
    expect(run.stdout).not.toMatch(/^error/m);
    // Then the history: created by the library call (no actor), started and finished by kiln.
    const history = run.stdout.split("\nhistory:\n")[1] ?? "";
    const [header, ...rows] = lines(history);
    expect(header).toMatch(/^AT +CHANGE +BY +FROM +REASON$/);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +created PENDING +- +-$/);
    expect(rows[1]).toMatch(/ start: PENDING → RUNNING +kiln +-$/);
    expect(rows[2]).toMatch(/ finish: RUNNING → FINISHED +kiln +-$/);
  });

  test("show: a failed task's error and a running task's progress", async () => {
    const fail = await kiln(["show", failed], env);
    expect(fail.stdout).toMatch(/^status +FAILED$/m);
    expect(fail.stdout).toMatch(/^error +Error: failed in run$/m);
    const hang = await kiln(["show", running], env);
    expect(hang.stdout).toMatch(/^status +RUNNING$/m);
    expect(hang.stdout).toMatch(/^progress +-$/m);
    expect(hang.stdout).not.toMatch(/^ended/m);
  });

  test("show --json is the server's task; an unknown id is exit 1 (task_not_found)", async () => {
    const id = finished[1] as string;
    const run = await kiln(["show", id, "--json"], env);
    expect(JSON.parse(run.stdout)).toEqual(await api(`/tasks/${id}`));
    const missing = await kiln(["show", "no-such-id"], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe("kiln: no task with id no-such-id (task_not_found)\n");
  });
});

describe("pause, resume, stop, restart", () => {
  test("a long task through pause --wait, resume, stop --wait and restart", async () => {
    const { manager } = server;
    const { task } = await manager.create("steps", { steps: 2_000, delayMs: 10 });
    await manager.waitFor(task.id, (t) => (t.progress?.done ?? 0) >= 2);

    const pause = await kiln(["pause", task.id, "--wait", "10000"], env);
    expect(pause).toEqual({ code: 0, stdout: `${task.id} PAUSED\n`, stderr: "" });
    expect((await manager.require(task.id)).status).toBe("PAUSED");

    const resume = await kiln(["resume", task.id], env);
    expect(resume).toEqual({ code: 0, stdout: `${task.id} PENDING\n`, stderr: "" });
    await untilStatus(manager, task.id, ["RUNNING"]);

    const stop = await kiln(["stop", task.id, "--wait", "10000", "--reason", "enough"], env);
    expect(stop).toEqual({ code: 0, stdout: `${task.id} STOPPED\n`, stderr: "" });
    const stopEvent = (await manager.events(task.id)).items.find((event) => event.toStatus === "STOPPED");
    expect(stopEvent).toMatchObject({ reason: "enough", actor: "anonymous", source: "127.0.0.1" });

    const restart = await kiln(["restart", task.id, "--json"], env);
    expect(restart.code).toBe(0);
    const answer = JSON.parse(restart.stdout) as { task: TaskJson };
    expect(answer.task).toMatchObject({ id: task.id, status: "PENDING", attempt: 2 });

    await manager.stop(task.id);
    await untilStatus(manager, task.id, ["STOPPED"]);
  });

  test("a request the task has yet to acknowledge prints that it is pending", async () => {
    const { manager } = server;
    // "hang" never reaches a checkpoint, so a pause stays requested.
    const { task } = await manager.create("hang", {});
    await untilStatus(manager, task.id, ["RUNNING"]);
    const pause = await kiln(["pause", task.id], env);
    expect(pause).toEqual({
      code: 0,
      stdout: "pause requested (waiting for the task's checkpoint)\n",
      stderr: "",
    });
    expect((await manager.require(task.id)).requestedAction).toBe("pause");

    const stop = await kiln(["stop", task.id], env);
    expect(stop.code).toBe(0);
    expect(stop.stdout).toBe("stop requested (waiting for the task's checkpoint)\n");
    await untilStatus(manager, task.id, ["STOPPED"]);
  });

  test("an illegal transition is exit 1 with the server's message (illegal_transition)", async () => {
    const { manager } = server;
    const { task } = await manager.create("echo", { value: 0 });
    await untilStatus(manager, task.id, ["FINISHED"]);
    const expected = await api<ApiError>(`/tasks/${task.id}/resume`, { method: "POST" });
    const run = await kiln(["resume", task.id], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(`kiln: ${expected.error.message} (illegal_transition)\n`);
  });

  test("a missing id or a bad --wait is exit 2; an unknown id is exit 1", async () => {
    expect((await kiln(["pause"], env)).code).toBe(2);
    const wait = await kiln(["stop", "some-id", "--wait", "soon"], env);
    expect(wait.code).toBe(2);
    expect(wait.stderr).toStartWith('kiln: --wait must be an integer from 0 to 30000, got "soon"');
    expect((await kiln(["stop", "some-id", "--wait", "60000"], env)).code).toBe(2);
    const unknown = await kiln(["restart", "no-such-id"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe("kiln: no task with id no-such-id (task_not_found)\n");
  });
});

describe("delete", () => {
  test("deletes an ended task with its history: the server no longer knows it", async () => {
    const { manager } = server;
    const { task } = await manager.create("echo", { value: "gone" });
    await untilStatus(manager, task.id, ["FINISHED"]);
    const run = await kiln(["delete", task.id], env);
    expect(run).toEqual({ code: 0, stdout: `${task.id} deleted\n`, stderr: "" });
    expect((await server.call(`/tasks/${task.id}`)).status).toBe(404);
    const db = new Database(server.dbPath, { readonly: true });
    const left = db.query("SELECT count(*) AS n FROM task_events WHERE task_id = ?").get(task.id);
    db.close();
    expect(left).toEqual({ n: 0 });
  });

  test("a live task is refused with the server's message (exit 1) and kept", async () => {
    const { manager } = server;
    const { task } = await manager.create("hang", {});
    await untilStatus(manager, task.id, ["RUNNING"]);
    try {
      const run = await kiln(["delete", task.id], env);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr).toBe("kiln: cannot delete a RUNNING task: stop it first (illegal_transition)\n");
      expect((await manager.require(task.id)).status).toBe("RUNNING");
    } finally {
      await manager.stop(task.id);
      await untilStatus(manager, task.id, ["STOPPED"]);
    }
  });

  test("an unknown id is exit 1 (task_not_found); a missing id is exit 2", async () => {
    const unknown = await kiln(["delete", "no-such-id"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe("kiln: no task with id no-such-id (task_not_found)\n");
    const missing = await kiln(["delete"], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe("kiln: missing the task id\nusage: kiln delete <id>\n");
  });
});
