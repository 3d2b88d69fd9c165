import type { Static } from "@sinclair/typebox";
import type { BulkResultSchema } from "../../http/bulk/schemas.ts";
import { TASK_STATUSES } from "../../task/status.ts";
import { positionals } from "./args.ts";
import { type Command, parseClientArgs } from "./command.ts";
import { CliError, UsageError } from "./errors.ts";
import { parseStatus } from "./tasks.ts";

type BulkAnswer = Static<typeof BulkResultSchema>;
type BulkItem = BulkAnswer["results"][number];

const ACTIONS = ["pause", "resume", "stop", "restart", "delete"] as const;
type Action = (typeof ACTIONS)[number];

/** The server's most tasks per call (MAX_BULK_TASKS): longer --ids lists go in several calls. */
export const IDS_PER_CALL = 1_000;

const FLAGS = {
  json: { type: "boolean" },
  ids: { type: "string", multiple: true },
  status: { type: "string" },
  name: { type: "string" },
  tag: { type: "string" },
  all: { type: "boolean" },
  cursor: { type: "string" },
  reason: { type: "string" },
} as const;

const HELP = [
  "  --ids A,B,C    the tasks, by id (comma-separated; repeat the flag for more)",
  `  --status S     or a filter: tasks in status S (${TASK_STATUSES.join(", ")})`,
  "  --name N       tasks of the task name N",
  "  --tag T        tasks tagged T",
  "                 without --status, a filter picks the statuses the action applies to",
  "  --all          a filter acts on at most 1000 tasks per call: go on until none is left",
  "  --cursor C     go on after the tasks of an earlier call (its nextCursor)",
  "  --reason TEXT  recorded in each task's history",
  "  --json         print each call's answer from the server, one JSON object per line",
].join("\n");

type Body = { action: Action; reason?: string } & (
  | { ids: string[] }
  | { filter: { status?: string; name?: string; tag?: string }; cursor?: string }
);

interface Selection {
  ids: string[] | undefined;
  filter: { status?: string; name?: string; tag?: string };
}

function parseAction(text: string, usage: string): Action {
  if ((ACTIONS as readonly string[]).includes(text)) return text as Action;
  throw new UsageError(`the action must be one of ${ACTIONS.join(", ")}, got "${text}"`, usage);
}

function parseIds(values: readonly string[] | undefined, usage: string): string[] | undefined {
  if (values === undefined) return undefined;
  const ids = values.flatMap((value) => value.split(",")).map((id) => id.trim());
  if (ids.some((id) => id === "")) {
    throw new UsageError("--ids must be task ids separated by commas, with none empty", usage);
  }
  return [...new Set(ids)];
}

function selection(values: Record<string, unknown>, usage: string): Selection {
  const ids = parseIds(values.ids as string[] | undefined, usage);
  const filter: Selection["filter"] = {};
  const status = parseStatus(values.status as string | undefined, usage);
  if (status !== undefined) filter.status = status;
  if (values.name !== undefined) filter.name = values.name as string;
  if (values.tag !== undefined) filter.tag = values.tag as string;
  const filtered = Object.keys(filter).length > 0;
  if (ids && filtered)
    throw new UsageError("give --ids or a filter (--status, --name, --tag), not both", usage);
  if (!ids && !filtered) {
    throw new UsageError("say which tasks: --ids, or a filter (--status, --name, --tag)", usage);
  }
  if (ids && (values.all || values.cursor !== undefined)) {
    throw new UsageError("--all and --cursor go with a filter; --ids are all acted on", usage);
  }
  return { ids, filter };
}

/** One line per task: what it is now, or why it was refused. */
function itemLine(action: Action, item: BulkItem): string {
  if (!item.ok) return `${item.id} refused: ${item.error.message} (${item.error.code})`;
  if (action === "delete") return `${item.id} deleted`;
  if (item.requestedAction)
    return `${item.id} ${item.status} (${item.requestedAction} at its next checkpoint)`;
  return `${item.id} ${item.status}`;
}

interface Totals {
  calls: number;
  succeeded: number;
  failed: number;
  /** The nextCursor of the last call when it left tasks (without --all). */
  cursorLeft: string | null;
}

function summary(action: Action, totals: Totals): string {
  const tasks = totals.succeeded + totals.failed;
  if (tasks === 0) return `${action}: no tasks matched`;
  const calls = totals.calls > 1 ? ` in ${totals.calls} calls` : "";
  return `${action}: ${tasks} task${tasks === 1 ? "" : "s"}, ${totals.succeeded} succeeded, ${totals.failed} failed${calls}`;
}

/** The bodies to send: --ids in chunks the server takes; a filter one call at a time (see run). */
function idBodies(action: Action, ids: string[], reason: string | undefined): Body[] {
  const bodies: Body[] = [];
  for (let from = 0; from < ids.length; from += IDS_PER_CALL) {
    bodies.push({
      action,
      ids: ids.slice(from, from + IDS_PER_CALL),
      ...(reason === undefined ? {} : { reason }),
    });
  }
  return bodies;
}

export const bulkCommand: Command = {
  name: "bulk",
  synopsis:
    "<pause|resume|stop|restart|delete> (--ids A,B,C | [--status S] [--name N] [--tag T] [--all] [--cursor C]) [--reason TEXT] [--json]",
  summary: "Pause, resume, stop, restart or delete many tasks: by ids or a filter; one line per task.",
  async run(args, env) {
    const parsed = parseClientArgs(this, args, env, FLAGS, HELP);
    if (!parsed) return 0;
    const { values, usage, client } = parsed;
    const [actionText] = positionals(parsed.positionals, ["the action"], usage);
    const action = parseAction(actionText, usage);
    const { ids, filter } = selection(values, usage);
    const reason = values.reason;
    const totals: Totals = { calls: 0, succeeded: 0, failed: 0, cursorLeft: null };

    const send = async (body: Body): Promise<BulkAnswer> => {
      const { body: answer } = await client.request<BulkAnswer>("POST", "/tasks/bulk", { body });
      totals.calls++;
      totals.succeeded += answer.succeeded;
      totals.failed += answer.failed;
      if (values.json) console.log(JSON.stringify(answer));
      else for (const item of answer.results) console.log(itemLine(action, item));
      return answer;
    };

    try {
      if (ids) {
        for (const body of idBodies(action, ids, reason)) await send(body);
      } else {
        let cursor = values.cursor;
        for (;;) {
          const answer = await send({
            action,
            filter,
            ...(cursor === undefined ? {} : { cursor }),
            ...(reason === undefined ? {} : { reason }),
          });
          if (answer.nextCursor === null) break;
          if (!values.all) {
            totals.cursorLeft = answer.nextCursor;
            break;
          }
          // The cursor moves to older tasks with every call; one that does not would loop forever.
          if (answer.nextCursor === cursor)
            throw new CliError(`the server answered the same nextCursor ${cursor} twice`);
          cursor = answer.nextCursor;
        }
      }
    } catch (error) {
      // What was done before the failure stays done: say how much, then the error.
      if (!values.json && totals.calls > 0) console.log(`${summary(action, totals)} before the error below`);
      throw error;
    }
    if (!values.json) {
      console.log(summary(action, totals));
      if (totals.cursorLeft !== null) {
        console.log(`more tasks match: add --all, or go on with --cursor ${totals.cursorLeft}`);
      }
    }
    return totals.failed === 0 ? 0 : 1;
  },
};
