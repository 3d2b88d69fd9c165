import type { TaskJson } from "../../http/presenters.ts";
import type { ScheduleDetailJson, ScheduleJson, ScheduleListItemJson } from "../../http/schedule-schemas.ts";
import { MISFIRE_POLICIES, OVERLAP_POLICIES } from "../../task/schedule.ts";
import { integerFlag, positionals } from "./args.ts";
import { type Command, parseClientArgs, printJson, usageLine } from "./command.ts";
import { UsageError } from "./errors.ts";
import { describeSchedule, expression, scheduleTable } from "./schedule-format.ts";
import { JSON_FLAG, JSON_HELP } from "./tasks.ts";

const schedulePath = (id: string, rest = "") => `/schedules/${encodeURIComponent(id)}${rest}`;

const lsCommand: Command = {
  name: "schedules ls",
  synopsis: "[--json]",
  summary: "List schedules: task, expression, time zone, next run, last run with its status, paused.",
  async run(args, env) {
    const parsed = parseClientArgs(this, args, env, JSON_FLAG, JSON_HELP);
    if (!parsed) return 0;
    positionals(parsed.positionals, [], parsed.usage);
    const { body } = await parsed.client.request<{ items: ScheduleListItemJson[] }>("GET", "/schedules");
    if (parsed.values.json) {
      printJson(body);
      return 0;
    }
    if (body.items.length === 0) {
      console.log("no schedules");
      return 0;
    }
    console.log(scheduleTable(body.items));
    return 0;
  },
};

const showCommand: Command = {
  name: "schedules show",
  synopsis: "<id> [--json]",
  summary: "Show one schedule: its fields, last task, next five fire times and latest fires.",
  async run(args, env) {
    const parsed = parseClientArgs(this, args, env, JSON_FLAG, JSON_HELP);
    if (!parsed) return 0;
    const [id] = positionals(parsed.positionals, ["the schedule id"], parsed.usage);
    const { body } = await parsed.client.request<ScheduleDetailJson>("GET", schedulePath(id));
    if (parsed.values.json) printJson(body);
    else console.log(describeSchedule(body));
    return 0;
  },
};

function oneOf<const T extends readonly string[]>(
  value: string | undefined,
  allowed: T,
  flag: string,
  usage: string,
): T[number] | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value)) {
    throw new UsageError(`${flag} must be one of ${allowed.join(", ")}, got "${value}"`, usage);
  }
  return value;
}

function parseParams(text: string | undefined, usage: string): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`--params is not valid JSON: ${(error as Error).message}`, usage);
  }
}

const addCommand: Command = {
  name: "schedules add",
  synopsis:
    "--name TASK (--cron EXPR | --every-ms MS) [--timezone TZ] [--params JSON] [--id ID] [--misfire P] [--backfill-ms MS] [--overlap P] [--priority N] [--tag T ...] [--paused] [--json]",
  summary: "Create a schedule; prints its id and next run. The server checks the expression and the params.",
  async run(args, env) {
    const flags = {
      ...JSON_FLAG,
      name: { type: "string" },
      cron: { type: "string" },
      "every-ms": { type: "string" },
      timezone: { type: "string" },
      params: { type: "string" },
      id: { type: "string" },
      misfire: { type: "string" },
      "backfill-ms": { type: "string" },
      overlap: { type: "string" },
      priority: { type: "string" },
      tag: { type: "string", multiple: true },
      paused: { type: "boolean" },
    } as const;
    const help = [
      "  --name TASK       the registered task name each fire creates a task of",
      '  --cron EXPR       5 fields, or 6 with seconds first, e.g. "0 3 * * *"',
      "  --every-ms MS     instead of --cron: every MS milliseconds (at least 1000) from now",
      "  --timezone TZ     IANA time zone the cron expression is read in (default UTC)",
      "  --params JSON     params of each task, checked against the task's schema now",
      "  --id ID           the schedule's id (default: a new one)",
      `  --misfire P       after downtime: ${MISFIRE_POLICIES.join(", ")} (default once)`,
      "  --backfill-ms MS  with --misfire all: how far back missed times still run",
      `  --overlap P       while the previous task is live: ${OVERLAP_POLICIES.join(", ")} (default allow)`,
      "  --priority N      priority of each task (default 0)",
      "  --tag T           a tag of each task; repeat for more",
      "  --paused          create it paused: it fires once resumed",
      JSON_HELP,
    ].join("\n");
    const parsed = parseClientArgs(this, args, env, flags, help);
    if (!parsed) return 0;
    const { values, usage } = parsed;
    positionals(parsed.positionals, [], usage);
    if (values.name === undefined) throw new UsageError("--name is required", usage);
    if ((values.cron === undefined) === (values["every-ms"] === undefined)) {
      throw new UsageError("give exactly one of --cron and --every-ms", usage);
    }
    const body = {
      id: values.id,
      name: values.name,
      cron: values.cron,
      everyMs: integerFlag(values["every-ms"], "--every-ms", 1, Number.MAX_SAFE_INTEGER, usage),
      timezone: values.timezone,
      params: parseParams(values.params, usage),
      misfire: oneOf(values.misfire, MISFIRE_POLICIES, "--misfire", usage),
      backfillMs: integerFlag(values["backfill-ms"], "--backfill-ms", 1, Number.MAX_SAFE_INTEGER, usage),
      overlap: oneOf(values.overlap, OVERLAP_POLICIES, "--overlap", usage),
      priority: integerFlag(values.priority, "--priority", -2_147_483_648, 2_147_483_647, usage),
      tags: values.tag,
      paused: values.paused,
    };
    const { body: answer } = await parsed.client.request<{ schedule: ScheduleJson }>("POST", "/schedules", {
      body,
    });
    if (values.json) {
      printJson(answer);
      return 0;
    }
    const { schedule } = answer;
    const next = schedule.paused ? "paused" : `next run ${schedule.nextRunAt ?? "none"}`;
    console.log(`${schedule.id} ${expression(schedule)} (${next})`);
    return 0;
  },
};

const rmCommand: Command = {
  name: "schedules rm",
  synopsis: "<id>",
  summary: "Delete a schedule and its fire history; the tasks it created stay.",
  async run(args, env) {
    const parsed = parseClientArgs(this, args, env, {}, "");
    if (!parsed) return 0;
    const [id] = positionals(parsed.positionals, ["the schedule id"], parsed.usage);
    await parsed.client.request("DELETE", schedulePath(id));
    console.log(`${id} deleted`);
    return 0;
  },
};

function toggleCommand(action: "pause" | "resume"): Command {
  return {
    name: `schedules ${action}`,
    synopsis: "<id> [--json]",
    summary:
      action === "pause"
        ? "Pause a schedule: it fires no more until resumed."
        : "Resume a schedule from now; times passed while paused are not caught up.",
    async run(args, env) {
      const parsed = parseClientArgs(this, args, env, JSON_FLAG, JSON_HELP);
      if (!parsed) return 0;
      const [id] = positionals(parsed.positionals, ["the schedule id"], parsed.usage);
      const { body } = await parsed.client.request<{ schedule: ScheduleJson }>(
        "POST",
        schedulePath(id, `/${action}`),
      );
      if (parsed.values.json) printJson(body);
      else {
        const { schedule } = body;
        console.log(
          schedule.paused ? `${id} paused` : `${id} resumed (next run ${schedule.nextRunAt ?? "none"})`,
        );
      }
      return 0;
    },
  };
}

const triggerCommand: Command = {
  name: "schedules trigger",
  synopsis: "<id> [--json]",
  summary: "Fire a schedule once now, whatever its timing or pause; prints the task's id and status.",
  async run(args, env) {
    const parsed = parseClientArgs(this, args, env, JSON_FLAG, JSON_HELP);
    if (!parsed) return 0;
    const [id] = positionals(parsed.positionals, ["the schedule id"], parsed.usage);
    const { body } = await parsed.client.request<{ task: TaskJson }>("POST", schedulePath(id, "/trigger"));
    if (parsed.values.json) printJson(body);
    else console.log(`${body.task.id} ${body.task.status}`);
    return 0;
  },
};

const SUBCOMMANDS: Record<string, Command> = {
  ls: lsCommand,
  show: showCommand,
  add: addCommand,
  rm: rmCommand,
  pause: toggleCommand("pause"),
  resume: toggleCommand("resume"),
  trigger: triggerCommand,
};

const SYNOPSIS = `<${Object.keys(SUBCOMMANDS).join("|")}> [flags]`;

function schedulesHelp(): string {
  const width = Math.max(...Object.keys(SUBCOMMANDS).map((name) => name.length));
  const lines = Object.entries(SUBCOMMANDS).map(
    ([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`,
  );
  return [
    usageLine("schedules", SYNOPSIS),
    "",
    "Cron and interval schedules on a running server.",
    "",
    ...lines,
    "",
    "run `kiln schedules <subcommand> --help` for its flags",
  ].join("\n");
}

export const schedulesCommand: Command = {
  name: "schedules",
  synopsis: SYNOPSIS,
  summary: "Cron and interval schedules: ls, show, add, rm, pause, resume, trigger.",
  async run(args, env) {
    const [sub, ...rest] = args;
    if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
      console.log(schedulesHelp());
      return 0;
    }
    const command = Object.hasOwn(SUBCOMMANDS, sub) ? SUBCOMMANDS[sub] : undefined;
    if (!command) {
      throw new UsageError(`unknown schedules subcommand "${sub}"`, usageLine("schedules", SYNOPSIS));
    }
    return command.run(rest, env);
  },
};
