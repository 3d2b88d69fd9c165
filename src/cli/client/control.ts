import type { TaskJson } from "../../http/presenters.ts";
import { integerFlag, positionals } from "./args.ts";
import { type Command, parseClientArgs, printJson } from "./command.ts";
import { JSON_FLAG, JSON_HELP, taskPath } from "./tasks.ts";

/** The server refuses a longer ?wait= (ControlQuery in src/http/schemas.ts). */
const MAX_WAIT_MS = 30_000;

type Action = "pause" | "resume" | "stop" | "restart";

const ACTION_SUMMARIES: Record<Action, string> = {
  pause: "Pause a task: at once when PENDING, at its next checkpoint when RUNNING.",
  resume: "Resume a PAUSED task, or withdraw a pause it has not acknowledged yet.",
  stop: "Stop a task: at once unless RUNNING, then at its next checkpoint or after its grace period.",
  restart: "Restart a task from the top as a new attempt, stopping it first if it is live.",
};

function controlCommand(action: Action): Command {
  return {
    name: action,
    synopsis: "<id> [--wait MS] [--reason TEXT] [--json]",
    summary: ACTION_SUMMARIES[action],
    async run(args, env) {
      const flags = { ...JSON_FLAG, wait: { type: "string" }, reason: { type: "string" } } as const;
      const help = [
        "  --wait MS       wait up to MS (at most 30000) for a running task to act on the request",
        "  --reason TEXT   recorded in the task's history",
        JSON_HELP,
      ].join("\n");
      const parsed = parseClientArgs(this, args, env, flags, help);
      if (!parsed) return 0;
      const { values, usage } = parsed;
      const [id] = positionals(parsed.positionals, ["the task id"], usage);
      const wait = integerFlag(values.wait, "--wait", 0, MAX_WAIT_MS, usage);
      const answer = await parsed.client.request<{ task: TaskJson; requestedAction?: string }>(
        "POST",
        taskPath(id, `/${action}`),
        { query: { wait }, ...(values.reason === undefined ? {} : { body: { reason: values.reason } }) },
      );
      if (values.json) {
        printJson(answer.body);
        return 0;
      }
      const { task, requestedAction } = answer.body;
      // 202: stored, and the running task acts on it when it next reaches a checkpoint.
      if (answer.status === 202) {
        console.log(`${requestedAction ?? action} requested (waiting for the task's checkpoint)`);
      } else {
        console.log(`${task.id} ${task.status}`);
      }
      return 0;
    },
  };
}

export const controlCommands: Command[] = (["pause", "resume", "stop", "restart"] as const).map(
  controlCommand,
);
