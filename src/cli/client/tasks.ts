import type { EventJson, TaskJson, TaskTypeJson } from "../../http/presenters.ts";
import { TASK_STATUSES } from "../../task/status.ts";
import { integerFlag, positionals } from "./args.ts";
import { type Command, parseClientArgs, printJson } from "./command.ts";
import { UsageError } from "./errors.ts";
import {
  block,
  errorText,
  jsonValue,
  paramsSummary,
  percent,
  progressText,
  shortTime,
  table,
  taskDuration,
} from "./format.ts";

export const JSON_FLAG = { json: { type: "boolean" } } as const;
export const JSON_HELP = "  --json        print the server's JSON as it came";

export const taskPath = (id: string, rest = "") => `/tasks/${encodeURIComponent(id)}${rest}`;

type TaskTypeItem = TaskTypeJson & { paused?: { pausedBy: string | null; pausedAt: string } | null };

export const typesCommand: Command = {
  name: "types",
  synopsis: "[pause <name> [--running] | resume <name>] [--json]",
  summary: "List the task names the server can run, with their params; pause or resume a whole name.",
  async run(args, env) {
    const flags = { ...JSON_FLAG, running: { type: "boolean" } } as const;
    const help = [
      "  pause <name>    no new task of the name starts until resumed (durable)",
      "  --running       with pause: the running tasks of the name pause at their next checkpoint too",
      "  resume <name>   let the name's tasks start again",
      JSON_HELP,
    ].join("\n");
    const parsed = parseClientArgs(this, args, env, flags, help);
    if (!parsed) return 0;
    const [action] = parsed.positionals;
    if (action === "pause" || action === "resume") {
      const [, name] = positionals(parsed.positionals, ["pause or resume", "the task name"], parsed.usage);
      const running = action === "pause" && parsed.values.running ? "pause" : undefined;
      const { body } = await parsed.client.request<{ runsAskedToPause?: number; wasPaused?: boolean }>(
        "POST",
        `/task-types/${encodeURIComponent(name)}/${action}`,
        { query: { running } },
      );
      if (parsed.values.json) printJson(body);
      else if (action === "pause")
        console.log(
          `${name} paused${running ? ` (${body.runsAskedToPause ?? 0} running asked to pause)` : ""}`,
        );
      else console.log(body.wasPaused ? `${name} resumed` : `${name} was not paused`);
      return 0;
    }
    positionals(parsed.positionals, [], parsed.usage);
    const { body } = await parsed.client.request<{ items: TaskTypeItem[] }>("GET", "/task-types");
    if (parsed.values.json) {
      printJson(body);
      return 0;
    }
    if (body.items.length === 0) {
      console.log("no task types registered");
      return 0;
    }
    const rows = body.items.map((type) => [
      type.name,
      type.options.concurrency === null ? "-" : String(type.options.concurrency),
      type.paused ? `paused${type.paused.pausedBy ? ` by ${type.paused.pausedBy}` : ""}` : "-",
      paramsSummary(type.params),
      type.description ?? "",
    ]);
    console.log(table(["NAME", "CONCURRENCY", "PAUSED", "PARAMS", "DESCRIPTION"], rows, [1]));
    return 0;
  },
};

function parseParams(text: string | undefined, usage: string): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`--params is not valid JSON: ${(error as Error).message}`, usage);
  }
}

/** Epoch milliseconds from digits, or from anything Date.parse understands (ISO 8601 first of all). */
function parseRunAt(text: string | undefined, usage: string): number | undefined {
  if (text === undefined) return undefined;
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new UsageError(
      `--run-at must be an ISO 8601 date-time or epoch milliseconds, got "${text}"`,
      usage,
    );
  }
  return ms;
}

export const submitCommand: Command = {
  name: "submit",
  synopsis: "<name> [--params JSON] [--priority N] [--run-at ISO|MS] [--key KEY] [--tag T ...] [--json]",
  summary: "Create a task; prints its id and status.",
  async run(args, env) {
    const flags = {
      ...JSON_FLAG,
      params: { type: "string" },
      priority: { type: "string" },
      "run-at": { type: "string" },
      key: { type: "string" },
      tag: { type: "string", multiple: true },
    } as const;
    const help = [
      "  --params JSON   the task's params, checked against its schema by the server",
      "  --priority N    higher runs first (default 0)",
      "  --run-at T      do not start before T: ISO 8601 date-time or epoch milliseconds",
      "  --key KEY       idempotency key: the same submit again returns the first task; other params under it fail",
      "  --tag T         a tag; repeat for more",
      JSON_HELP,
    ].join("\n");
    const parsed = parseClientArgs(this, args, env, flags, help);
    if (!parsed) return 0;
    const { values, usage } = parsed;
    const [name] = positionals(parsed.positionals, ["the task name"], usage);
    const body = {
      name,
      params: parseParams(values.params, usage),
      priority: integerFlag(values.priority, "--priority", -2_147_483_648, 2_147_483_647, usage),
      runAt: parseRunAt(values["run-at"], usage),
      idempotencyKey: values.key,
      tags: values.tag,
    };
    const answer = await parsed.client.request<TaskJson>("POST", "/tasks", { body });
    if (values.json) {
      printJson(answer.body);
      return 0;
    }
    const task = answer.body;
    // 200 instead of 201: the key was seen before and this is the earlier task.
    const earlier = answer.status === 200 ? ` (already submitted with key "${values.key}")` : "";
    console.log(`${task.id} ${task.status}${earlier}`);
    return 0;
  },
};

export function parseStatus(text: string | undefined, usage: string): string | undefined {
  if (text === undefined) return undefined;
  const status = text.toUpperCase();
  if (!(TASK_STATUSES as readonly string[]).includes(status)) {
    throw new UsageError(`--status must be one of ${TASK_STATUSES.join(", ")}, got "${text}"`, usage);
  }
  return status;
}

/** The same listing again, one page further on. */
function nextPageHint(filters: [flag: string, value: string | undefined][], cursor: string): string {
  const flags = filters
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([flag, value]) => `--${flag} ${/^[\w.:@/=+-]+$/.test(value) ? value : JSON.stringify(value)}`);
  return `more: kiln ls ${[...flags, `--cursor ${cursor}`].join(" ")}`;
}

/** `--param PATH=VALUE` flags as the query keys of GET /tasks (`param.PATH`); the server checks the path. */
function paramQuery(given: readonly string[] | undefined, usage: string): Record<string, string> {
  const query: Record<string, string> = {};
  for (const text of given ?? []) {
    const at = text.indexOf("=");
    if (at < 1)
      throw new UsageError(`--param needs PATH=VALUE (customerId=c-42, order.id=7), got "${text}"`, usage);
    query[`param.${text.slice(0, at)}`] = text.slice(at + 1);
  }
  return query;
}

const TIME_FLAGS = [
  ["created-after", "createdAfter", "created at or after T"],
  ["created-before", "createdBefore", "created before T"],
  ["ended-after", "endedAfter", "ended at or after T"],
  ["ended-before", "endedBefore", "ended before T"],
] as const;

export const lsCommand: Command = {
  name: "ls",
  synopsis:
    "[--status S] [--name N] [--tag T] [--param PATH=VALUE ...] [--created-after T] [--created-before T] [--ended-after T] [--ended-before T] [--limit N] [--cursor C] [--json]",
  summary: "List tasks, newest first, one page at a time.",
  async run(args, env) {
    const flags = {
      ...JSON_FLAG,
      status: { type: "string" },
      name: { type: "string" },
      tag: { type: "string" },
      param: { type: "string", multiple: true },
      "created-after": { type: "string" },
      "created-before": { type: "string" },
      "ended-after": { type: "string" },
      "ended-before": { type: "string" },
      limit: { type: "string" },
      cursor: { type: "string" },
    } as const;
    const help = [
      `  --status S            only tasks in status S (${TASK_STATUSES.join(", ")})`,
      "  --name N              only tasks of the task name N",
      "  --tag T               only tasks tagged T",
      "  --param PATH=VALUE    only tasks whose params field PATH (customerId, order.id) is VALUE; repeat for more",
      ...TIME_FLAGS.map(([flag, , what]) => `  --${`${flag} T`.padEnd(20)}only tasks ${what}`),
      "                        (T: an ISO 8601 date-time with its zone, or epoch milliseconds)",
      "  --limit N             tasks per page, 1 to 500 (default 50)",
      "  --cursor C            the page after C, as printed under the previous page",
      JSON_HELP,
    ].join("\n");
    const parsed = parseClientArgs(this, args, env, flags, help);
    if (!parsed) return 0;
    const { values, usage } = parsed;
    positionals(parsed.positionals, [], usage);
    const times = Object.fromEntries(TIME_FLAGS.map(([flag, key]) => [key, values[flag]]));
    const query = {
      status: parseStatus(values.status, usage),
      name: values.name,
      tag: values.tag,
      ...paramQuery(values.param, usage),
      ...times,
      limit: integerFlag(values.limit, "--limit", 1, 500, usage),
      cursor: values.cursor,
    };
    const { body } = await parsed.client.request<{ items: TaskJson[]; nextCursor: string | null }>(
      "GET",
      "/tasks",
      { query },
    );
    if (values.json) {
      printJson(body);
      return 0;
    }
    if (body.items.length === 0) {
      console.log("no tasks");
    } else {
      const now = Date.now();
      const rows = body.items.map((task) => [
        task.id,
        task.name,
        task.tags.length > 0 ? task.tags.join(",") : "-",
        task.status,
        percent(task.progress),
        String(task.attempt),
        task.runAt === null ? "-" : shortTime(task.runAt),
        shortTime(task.createdAt),
        taskDuration(task, now) ?? "-",
      ]);
      const headers = [
        "ID",
        "NAME",
        "TAGS",
        "STATUS",
        "PROGRESS",
        "ATTEMPT",
        "RUN AT (UTC)",
        "CREATED (UTC)",
        "DURATION",
      ];
      console.log(table(headers, rows, [4, 5, 8]));
    }
    if (body.nextCursor !== null) {
      const filters: [string, string | undefined][] = [
        ["status", query.status],
        ["name", values.name],
        ["tag", values.tag],
        ...(values.param ?? []).map((param): [string, string] => ["param", param]),
        ...TIME_FLAGS.map(([flag]): [string, string | undefined] => [flag, values[flag]]),
        ["limit", values.limit],
      ];
      console.error(nextPageHint(filters, body.nextCursor));
    }
    return 0;
  },
};

/** The human view of one task; fields without a value are left out. */
export function describeTask(task: TaskJson): string {
  const entries: [string, string][] = [
    ["id", task.id],
    ["name", task.name],
    ["status", task.status],
  ];
  if (task.statusReason !== null) entries.push(["reason", task.statusReason]);
  if (task.requestedAction !== null) entries.push(["requested", task.requestedAction]);
  if (task.node !== null) entries.push(["node", task.node]);
  entries.push(
    ["progress", progressText(task.progress)],
    ["attempt", String(task.attempt)],
    ["priority", String(task.priority)],
    ["tags", task.tags.length > 0 ? task.tags.join(", ") : "-"],
    ["created", task.createdAt ?? "-"],
  );
  if (task.runAt !== null) entries.push(["run at", task.runAt]);
  if (task.startTime !== null) entries.push(["started", task.startTime]);
  if (task.endTime !== null) entries.push(["ended", task.endTime]);
  const took = taskDuration(task);
  if (took !== null) entries.push(["duration", took]);
  entries.push(["params", jsonValue(task.params)]);
  if (task.result !== null && task.result !== undefined) entries.push(["result", jsonValue(task.result)]);
  if (task.error !== null && task.error !== undefined) entries.push(["error", errorText(task.error)]);
  return block(entries);
}

/** History rows `kiln show` prints; a longer history says where to read the rest. */
const SHOW_HISTORY_LIMIT = 100;

function change(event: EventJson): string {
  if (event.to === null) return `${event.action} requested`;
  if (event.from === null) return `created ${event.to}`;
  return event.from === event.to ? event.action : `${event.action}: ${event.from} → ${event.to}`;
}

/** A task's history as a table: when, what changed, who asked and from where, and why. */
export function historyTable(events: EventJson[]): string {
  const rows = events.map((event) => [
    shortTime(event.at),
    change(event),
    event.actor ?? "-",
    event.source ?? "-",
    event.reason ?? "",
  ]);
  return table(["AT", "CHANGE", "BY", "FROM", "REASON"], rows);
}

export const showCommand: Command = {
  name: "show",
  synopsis: "<id> [--json]",
  summary: "Show one task: status, progress, params, result, error and its history (who did what).",
  async run(args, env) {
    const parsed = parseClientArgs(this, args, env, JSON_FLAG, JSON_HELP);
    if (!parsed) return 0;
    const [id] = positionals(parsed.positionals, ["the task id"], parsed.usage);
    const { body } = await parsed.client.request<TaskJson>("GET", taskPath(id));
    if (parsed.values.json) {
      printJson(body);
      return 0;
    }
    const { body: history } = await parsed.client.request<{ items: EventJson[]; nextCursor: number | null }>(
      "GET",
      taskPath(id, "/events"),
      { query: { limit: SHOW_HISTORY_LIMIT } },
    );
    console.log(`${describeTask(body)}\n\nhistory:\n${historyTable(history.items)}`);
    if (history.nextCursor !== null) {
      console.log(`… more: GET ${taskPath(id, "/events")}?after=${history.nextCursor}`);
    }
    return 0;
  },
};
