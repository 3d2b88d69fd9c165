import { join } from "node:path";

const ROOT = join(import.meta.dir, "../..");
const MAIN = join(ROOT, "src/cli/main.ts");

/** No CLI run may outlive this, whatever a test does. */
const KILL_AFTER_MS = 40_000;

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The test process's environment without kiln's variables, plus `env`. */
function cliEnv(env: Record<string, string | undefined>): Record<string, string> {
  const merged: Record<string, string | undefined> = { ...process.env };
  for (const name of ["KILN_URL", "KILN_TOKEN", "KILN_DB"]) delete merged[name];
  Object.assign(merged, env);
  return Object.fromEntries(
    Object.entries(merged).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

function spawn(args: string[], env: Record<string, string | undefined>) {
  return Bun.spawn([process.execPath, MAIN, ...args], {
    cwd: ROOT,
    env: cliEnv(env),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: KILL_AFTER_MS,
  });
}

/** Runs `kiln <args>` as a child process to its end. */
export async function kiln(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const child = spawn(args, env);
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code, stdout, stderr };
}

export interface LiveRun {
  /** What it has written to stdout so far. */
  stdout(): string;
  /** Resolves once stdout matches, failing after `timeoutMs`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves when it exits. */
  done: Promise<Run>;
  kill(): void;
}

/** Starts `kiln <args>` and lets the test act while it runs. */
export function start(args: string[], env: Record<string, string | undefined> = {}): LiveRun {
  const child = spawn(args, env);
  let out = "";
  const decoder = new TextDecoder();
  const reading = (async () => {
    for await (const chunk of child.stdout) out += decoder.decode(chunk, { stream: true });
  })();
  const stderr = new Response(child.stderr).text();
  const done = Promise.all([reading, stderr, child.exited]).then(([, err, code]) => ({
    code,
    stdout: out,
    stderr: err,
  }));
  return {
    stdout: () => out,
    async waitForOutput(pattern, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(out)) {
        if (child.exitCode !== null)
          throw new Error(`kiln exited (${child.exitCode}) before printing ${pattern}`);
        if (Date.now() > deadline)
          throw new Error(`kiln printed no ${pattern} within ${timeoutMs} ms: ${out}`);
        await Bun.sleep(20);
      }
    },
    done,
    kill: () => child.kill(),
  };
}

/** The non-empty lines of an output. */
export function lines(text: string): string[] {
  return text.split("\n").filter((line) => line !== "");
}
