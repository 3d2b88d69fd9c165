import { join } from "node:path";
import type { Subprocess } from "bun";

const ROOT = new URL("../../", import.meta.url).pathname;
const TASKS_DIR = new URL("./task-files/", import.meta.url).pathname;

export interface ServeProcess {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  url: string;
  /** Everything the server printed on stdout, once it has exited. */
  output: () => Promise<string>;
}

/** `kiln serve` from source in a child process, with the reliability task files, on a free port. */
export async function serveFromSource(dbPath: string, concurrency: number): Promise<ServeProcess> {
  const proc = Bun.spawn(
    ["bun", join(ROOT, "src/cli/main.ts"), "serve", "--port", "0", "--db", dbPath, "--tasks-dir", TASKS_DIR],
    {
      env: { ...process.env, KILN_LOG_FORMAT: "json", KILN_CONCURRENCY: String(concurrency) },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const match = /"msg":"kiln serving","url":"([^"]+)"/.exec(text);
    if (match?.[1]) {
      // Keep reading so the child never blocks on a full pipe.
      const rest = (async () => {
        for (;;) {
          const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
          if (done) return text;
          text += decoder.decode(value);
        }
      })();
      return { proc, url: match[1], output: () => rest };
    }
    const { value, done } = await reader.read();
    if (done)
      throw new Error(`kiln serve exited before serving: ${text}${await new Response(proc.stderr).text()}`);
    text += decoder.decode(value);
  }
}
