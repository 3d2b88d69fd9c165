import type { LogJson } from "../../http/presenters.ts";
import { integerFlag, positionals } from "./args.ts";
import { type Command, parseClientArgs } from "./command.ts";
import { followTask } from "./follow.ts";
import type { KilnClient } from "./http.ts";

/** What a history item and a stream `log` frame have in common. */
interface LogLine {
  at: string | null;
  level: string;
  message: string;
}

/**
 * Stream frames carry no log id, so a line is recognised by time, level and text. Two lines
 * alike in all three (same millisecond) are counted, not collapsed.
 */
class LineCounts {
  readonly #counts = new Map<string, number>();

  static key(line: LogLine): string {
    return `${line.at}\u0000${line.level}\u0000${line.message}`;
  }

  add(line: LogLine): void {
    const key = LineCounts.key(line);
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }

  /** True (and one fewer) when the line was counted. */
  take(line: LogLine): boolean {
    const key = LineCounts.key(line);
    const count = this.#counts.get(key) ?? 0;
    if (count === 0) return false;
    if (count === 1) this.#counts.delete(key);
    else this.#counts.set(key, count - 1);
    return true;
  }
}

/** Every line after `after`, reading page after page. */
async function readLogs(client: KilnClient, id: string, after: number | undefined): Promise<LogJson[]> {
  const lines: LogJson[] = [];
  let cursor = after;
  for (;;) {
    const { body } = await client.request<{ items: LogJson[]; nextCursor: number | null }>(
      "GET",
      `/tasks/${encodeURIComponent(id)}/logs`,
      { query: { after: cursor, limit: 500 } },
    );
    lines.push(...body.items);
    if (body.nextCursor === null) return lines;
    cursor = body.nextCursor;
  }
}

function printer(json: boolean): (line: LogLine) => void {
  // --json: one object per line, each as the server sent it (history item or stream frame).
  if (json) return (line) => console.log(JSON.stringify(line));
  return (line) => console.log(`${line.at} ${line.level.padEnd(5)} ${line.message}`);
}

/**
 * Prints the history, then new lines from the stream until the task ends. The stream is
 * opened before each history read (followTask does that), so a line is in the read, on the
 * stream, or both; both is deduplicated in each direction:
 *  - a stream line already printed from the history read is skipped;
 *  - a history line already printed from the stream (lines reach the database a tick after
 *    they are announced) is skipped when the history is read again at the end.
 * The last read happens after the final transition, which the server only announces after
 * writing every buffered line, so nothing is left out.
 */
async function follow(
  client: KilnClient,
  id: string,
  limit: number | undefined,
  print: (line: LogLine) => void,
) {
  const printedFromStream = new LineCounts();
  let printedFromHistory = new LineCounts();
  let lastId: number | undefined;
  let first = true;
  await followTask(client, id, {
    async sync() {
      const lines = await readLogs(client, id, lastId);
      lastId = lines.at(-1)?.id ?? lastId;
      // Only lines read now can show up again on the stream opened just before this read.
      printedFromHistory = new LineCounts();
      const hidden = first && limit !== undefined ? Math.max(0, lines.length - limit) : 0;
      first = false;
      lines.forEach((line, index) => {
        if (printedFromStream.take(line)) return;
        printedFromHistory.add(line);
        if (index >= hidden) print(line);
      });
    },
    frame(frame) {
      if (frame.event !== "log") return;
      const line = frame.data as LogLine;
      if (printedFromHistory.take(line)) return;
      printedFromStream.add(line);
      print(line);
    },
  });
}

export const logsCommand: Command = {
  name: "logs",
  synopsis: "<id> [--follow] [--limit N] [--json]",
  summary: "Print a task's log lines, oldest first; --follow prints new ones until the task ends.",
  async run(args, env) {
    const flags = {
      follow: { type: "boolean", short: "f" },
      limit: { type: "string" },
      json: { type: "boolean" },
    } as const;
    const help = [
      "  -f, --follow  keep printing new lines until the task is FINISHED, FAILED or STOPPED",
      "  --limit N     only the last N lines logged so far (0 with --follow: only new lines)",
      "  --json        one JSON object per line, as the server sent it",
    ].join("\n");
    const parsed = parseClientArgs(this, args, env, flags, help);
    if (!parsed) return 0;
    const { values, usage, client } = parsed;
    const [id] = positionals(parsed.positionals, ["the task id"], usage);
    const limit = integerFlag(values.limit, "--limit", 0, Number.MAX_SAFE_INTEGER, usage);
    const print = printer(values.json === true);
    if (values.follow) {
      await follow(client, id, limit, print);
      return 0;
    }
    const lines = await readLogs(client, id, undefined);
    for (const line of limit === undefined ? lines : lines.slice(Math.max(0, lines.length - limit)))
      print(line);
    return 0;
  },
};
