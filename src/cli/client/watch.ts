import type { ProgressJson, TaskJson } from "../../http/presenters.ts";
import { positionals } from "./args.ts";
import { type Command, parseClientArgs } from "./command.ts";
import { followTask } from "./follow.ts";
import { duration, errorText } from "./format.ts";

interface WatchState {
  status: string;
  progress: ProgressJson | null;
  requestedAction: string | null;
}

const BAR_WIDTH = 24;

function bar(percent: number, tty: boolean): string {
  const filled = Math.round((Math.min(100, Math.max(0, percent)) / 100) * BAR_WIDTH);
  const [full, empty] = tty ? ["█", "░"] : ["#", "-"];
  return `[${full.repeat(filled)}${empty.repeat(BAR_WIDTH - filled)}]`;
}

/** "RUNNING  [#####-------]  45.0%  step 9  (pause requested)" */
export function progressLine(state: WatchState, tty: boolean): string {
  const parts = [state.status.padEnd(8)];
  const { progress } = state;
  if (progress !== null) {
    if (progress.percent !== null)
      parts.push(bar(progress.percent, tty), `${progress.percent.toFixed(1)}%`.padStart(6));
    else parts.push(`${progress.done}/${progress.total ?? "?"}`);
    if (progress.message) parts.push(progress.message);
  }
  if (state.requestedAction !== null) parts.push(`(${state.requestedAction} requested)`);
  return parts.join("  ").trimEnd();
}

/** Cuts a line to the terminal width: a wrapped line cannot be redrawn with "\r". */
function fit(line: string, columns: number): string {
  const flat = line.replace(/[\r\n\t]+/g, " ");
  if (Bun.stringWidth(flat) <= columns) return flat;
  const chars = [...flat];
  while (chars.length > 0 && Bun.stringWidth(`${chars.join("")}…`) > columns) chars.pop();
  return `${chars.join("")}…`;
}

/** One line redrawn in place on a terminal; elsewhere a new line for each change. */
class LiveLine {
  #last = "";
  #drawn = false;

  constructor(private readonly tty: boolean) {}

  show(line: string): void {
    if (line === this.#last) return;
    this.#last = line;
    if (!this.tty) {
      console.log(line);
      return;
    }
    const columns = Math.max(20, (process.stdout.columns ?? 80) - 1);
    process.stdout.write(`\r\x1b[2K${fit(line, columns)}`);
    this.#drawn = true;
  }

  /** Leaves the last drawing on screen and moves below it. */
  end(): void {
    if (this.tty && this.#drawn) process.stdout.write("\n");
    this.#drawn = false;
  }
}

function summary(task: TaskJson): string {
  const took =
    task.startTime && task.endTime
      ? ` in ${duration(Date.parse(task.endTime) - Date.parse(task.startTime))}`
      : "";
  if (task.status === "FAILED")
    return `task ${task.id} FAILED${took}: ${errorText(task.error).split("\n")[0]}`;
  const reason = task.statusReason ? ` (${task.statusReason})` : "";
  return `task ${task.id} ${task.status}${took}${reason}`;
}

export const watchCommand: Command = {
  name: "watch",
  synopsis: "<id>",
  summary: "Show a task's progress live until it ends; exit 0 if it FINISHED, 1 if it FAILED or STOPPED.",
  async run(args, env) {
    const parsed = parseClientArgs(this, args, env, {}, "");
    if (!parsed) return 0;
    const [id] = positionals(parsed.positionals, ["the task id"], parsed.usage);
    const tty = process.stdout.isTTY === true;
    const live = new LiveLine(tty);
    const state: WatchState = { status: "", progress: null, requestedAction: null };
    const fromTask = (task: TaskJson) => {
      state.status = task.status;
      state.progress = task.progress;
      state.requestedAction = task.requestedAction;
    };
    const onInterrupt = () => {
      live.end();
      process.exit(130);
    };
    process.once("SIGINT", onInterrupt);
    try {
      const task = await followTask(parsed.client, id, {
        sync(task) {
          fromTask(task);
          live.show(progressLine(state, tty));
        },
        frame({ event, data }) {
          if (event === "transition" || event === "request") fromTask((data as { task: TaskJson }).task);
          else if (event === "progress")
            state.progress = (data as { progress: ProgressJson | null }).progress;
          else return;
          live.show(progressLine(state, tty));
        },
      });
      live.end();
      console.log(summary(task));
      return task.status === "FINISHED" ? 0 : 1;
    } finally {
      live.end();
      process.off("SIGINT", onInterrupt);
    }
  },
};
