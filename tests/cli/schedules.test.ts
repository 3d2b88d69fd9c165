// `kiln schedules …` as a child process against a real server on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TaskJson } from "../../src/http/index.ts";
import type { ScheduleDetailJson, ScheduleJson } from "../../src/http/schedule-schemas.ts";
import { untilStatus } from "../helpers.ts";
import { body, startServer, type TestServer } from "../http/server.ts";
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

describe("schedules add", () => {
  test("creates a cron schedule with every field given; prints its id and next run", async () => {
    const run = await kiln(
      [
        "schedules",
        "add",
        "--id",
        "nightly",
        "--name",
        "echo",
        "--cron",
        "0 3 * * *",
        "--timezone",
        "Europe/Berlin",
        "--params",
        '{"value":7}',
        "--misfire",
        "skip",
        "--overlap",
        "queue",
        "--priority",
        "4",
        "--tag",
        "a",
        "--tag",
        "b",
      ],
      env,
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^nightly 0 3 \* \* \* \(next run \d{4}-\d\d-\d\dT0[12]:00:00\.000Z\)\n$/);
    const { schedule } = await api<{ schedule: ScheduleJson }>("/schedules/nightly");
    expect(schedule).toMatchObject({
      name: "echo",
      cron: "0 3 * * *",
      everyMs: null,
      timezone: "Europe/Berlin",
      params: { value: 7 },
      misfire: "skip",
      overlap: "queue",
      priority: 4,
      tags: ["a", "b"],
      paused: false,
      source: "api",
    });
  });

  test("an interval, created paused", async () => {
    const run = await kiln(
      [
        "schedules",
        "add",
        "--id",
        "often",
        "--name",
        "echo",
        "--every-ms",
        "30000",
        "--params",
        '{"value":1}',
        "--paused",
      ],
      env,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("often every 30.0s (paused)\n");
    const { schedule } = await api<{ schedule: ScheduleJson }>("/schedules/often");
    expect(schedule).toMatchObject({ cron: null, everyMs: 30_000, paused: true });
  });

  test("the server's refusals are printed as one line each, exit 1", async () => {
    const badCron = await kiln(["schedules", "add", "--name", "echo", "--cron", "61 * * * *"], env);
    expect(badCron.code).toBe(1);
    expect(badCron.stdout).toBe("");
    expect(badCron.stderr).toBe(
      'kiln: cron: "61 * * * *": minute 61 is out of range 0-59 (invalid_schedule)\n',
    );

    const badZone = await kiln(
      ["schedules", "add", "--name", "echo", "--cron", "0 3 * * *", "--timezone", "Mars/Base"],
      env,
    );
    expect(badZone.code).toBe(1);
    expect(badZone.stderr).toContain('timezone: "Mars/Base" is not a known IANA time zone');

    const badParams = await kiln(
      ["schedules", "add", "--name", "steps", "--every-ms", "5000", "--params", "{}"],
      env,
    );
    expect(badParams.code).toBe(1);
    expect(badParams.stderr).toMatch(
      /^kiln: params of "steps" do not match its schema.*\(invalid_params\)\n$/,
    );

    const unknown = await kiln(["schedules", "add", "--name", "nope", "--every-ms", "5000"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no task is registered under the name "nope"');

    const taken = await kiln(
      [
        "schedules",
        "add",
        "--id",
        "nightly",
        "--name",
        "echo",
        "--every-ms",
        "5000",
        "--params",
        '{"value":1}',
      ],
      env,
    );
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/^kiln: .*nightly.*\n$/);
  });

  test("usage mistakes are caught before any request, exit 2", async () => {
    const both = await kiln(
      ["schedules", "add", "--name", "echo", "--cron", "* * * * *", "--every-ms", "5000"],
      env,
    );
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("give exactly one of --cron and --every-ms");
    const noName = await kiln(["schedules", "add", "--cron", "* * * * *"], env);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain("--name is required");
    const policy = await kiln(
      ["schedules", "add", "--name", "echo", "--cron", "* * * * *", "--overlap", "x"],
      env,
    );
    expect(policy.code).toBe(2);
    expect(policy.stderr).toContain("--overlap must be one of allow, skip, queue");
    const params = await kiln(
      ["schedules", "add", "--name", "echo", "--cron", "* * * * *", "--params", "{"],
      env,
    );
    expect(params.code).toBe(2);
    expect(params.stderr).toContain("--params is not valid JSON");
    const sub = await kiln(["schedules", "nope"], env);
    expect(sub.code).toBe(2);
    expect(sub.stderr).toContain('unknown schedules subcommand "nope"');
  });
});

describe("schedules trigger, ls, show", () => {
  test("trigger creates the task now; ls and show carry it with its status", async () => {
    const run = await kiln(["schedules", "trigger", "nightly"], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\S+ PENDING\n$/);
    const taskId = run.stdout.split(" ")[0] as string;
    const task = await api<TaskJson>(`/tasks/${taskId}`);
    expect(task).toMatchObject({ name: "echo", params: { value: 7 }, priority: 4 });
    await untilStatus(server.manager, taskId, ["FINISHED"]);

    const ls = await kiln(["schedules", "ls"], env);
    expect(ls.code).toBe(0);
    const [header, ...rows] = lines(ls.stdout);
    expect(header).toMatch(/^ID +TASK +EXPRESSION +TIMEZONE +NEXT RUN \(UTC\) +LAST RUN \(UTC\) +PAUSED$/);
    expect(rows.find((row) => row.startsWith("nightly "))).toMatch(
      /^nightly +echo +0 3 \* \* \* +Europe\/Berlin +\d{4}-\d\d-\d\d 0[12]:00:00 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d FINISHED +no$/,
    );
    expect(rows.find((row) => row.startsWith("often "))).toMatch(/^often +echo +every 30\.0s +- +- +- +yes$/);
    // The list carries each last task's status: ls makes one request, not one per schedule.
    const listed = await api<{
      items: Array<{ id: string; lastTaskId: string | null; lastTaskStatus: string | null }>;
    }>("/schedules");
    expect(listed.items.find((item) => item.id === "nightly")).toMatchObject({
      lastTaskId: taskId,
      lastTaskStatus: "FINISHED",
    });
    expect(listed.items.find((item) => item.id === "often")?.lastTaskStatus).toBeNull();

    const show = await kiln(["schedules", "show", "nightly"], env);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`last task   ${taskId} FINISHED`);
    const detail = await api<ScheduleDetailJson>("/schedules/nightly");
    expect(detail.nextRuns).toHaveLength(5);
    for (const time of detail.nextRuns) expect(show.stdout).toContain(time);
    expect(show.stdout).toContain('params      {"value":7}');
    expect(show.stdout).toMatch(
      /latest fires:\nFIRE TIME \(UTC\) +TASK\n\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +\S+/,
    );

    const json = await kiln(["schedules", "show", "nightly", "--json"], env);
    expect(JSON.parse(json.stdout)).toEqual(await api("/schedules/nightly"));
  });

  test("show of an unknown id: the server's 404 as one line, exit 1", async () => {
    const run = await kiln(["schedules", "show", "zzz"], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe("kiln: no schedule with id zzz (schedule_not_found)\n");
  });
});

describe("schedules pause, resume, rm", () => {
  test("pause and resume flip it; rm deletes it", async () => {
    const pause = await kiln(["schedules", "pause", "nightly"], env);
    expect(pause.code).toBe(0);
    expect(pause.stdout).toBe("nightly paused\n");
    expect((await api<{ schedule: ScheduleJson }>("/schedules/nightly")).schedule.paused).toBe(true);

    const resume = await kiln(["schedules", "resume", "nightly"], env);
    expect(resume.code).toBe(0);
    expect(resume.stdout).toMatch(/^nightly resumed \(next run \S+\)\n$/);
    expect((await api<{ schedule: ScheduleJson }>("/schedules/nightly")).schedule.paused).toBe(false);

    const rm = await kiln(["schedules", "rm", "often"], env);
    expect(rm.code).toBe(0);
    expect(rm.stdout).toBe("often deleted\n");
    expect((await server.call("/schedules/often")).status).toBe(404);
    const again = await kiln(["schedules", "rm", "often"], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("no schedule with id often");
  });
});

test("kiln help lists schedules; kiln schedules --help lists the subcommands", async () => {
  const help = await kiln(["help"], {});
  expect(help.stdout).toMatch(/\n {2}schedules +Cron and interval schedules/);
  const sub = await kiln(["schedules", "--help"], {});
  expect(sub.code).toBe(0);
  for (const name of ["ls", "show", "add", "rm", "pause", "resume", "trigger"]) {
    expect(sub.stdout).toMatch(new RegExp(`\\n  ${name} +\\S`));
  }
  const add = await kiln(["schedules", "add", "--help"], {});
  expect(add.stdout).toContain("usage: kiln schedules add --name TASK (--cron EXPR | --every-ms MS)");
  expect(add.stdout).toContain("--tag T");
});
