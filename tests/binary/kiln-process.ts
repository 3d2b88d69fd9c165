import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

const ROOT = new URL("../../", import.meta.url).pathname;

let built: Promise<string> | undefined;
let builtDir: string | undefined;

/** Removes the binary `compiledKiln` built (about 114 MB), once every test file has run (tests/support/preload.ts). */
export function removeCompiledKiln(): void {
  if (builtDir) rmSync(builtDir, { recursive: true, force: true });
  builtDir = undefined;
  built = undefined;
}

/**
 * Compiles the current source with the same command as `bun run build`, into a temp dir, once
 * per test run: the tests exercise the binary of this checkout, not a stale dist/.
 */
export function compiledKiln(): Promise<string> {
  built ??= (async () => {
    builtDir = mkdtempSync(join(tmpdir(), "kiln-bin-"));
    const out = join(builtDir, "kiln");
    const pkg = (await Bun.file(join(ROOT, "package.json")).json()) as { scripts: { build: string } };
    const command = pkg.scripts.build.replace("dist/kiln", out).split(" ");
    const proc = Bun.spawn(command, { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    if ((await proc.exited) !== 0) {
      throw new Error(`build failed: ${await new Response(proc.stderr).text()}`);
    }
    return out;
  })();
  return built;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the binary to completion. */
export async function runKiln(binary: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const proc = Bun.spawn([binary, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr } satisfies RunResult;
}

export interface ServingKiln {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  url: string;
  /** Every stdout line so far (JSON log lines). */
  lines: string[];
  /** Resolves when a line matching `pattern` has been logged. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/** `kiln` as this checkout's source runs it: the same CLI as the binary, without compiling. */
export const KILN_FROM_SOURCE = ["bun", join(ROOT, "src/cli/main.ts")];

/**
 * Starts `kiln serve` on a free port (`--port 0`) and waits for its "kiln serving" line.
 * `kiln` is the executable's path, or a command such as `KILN_FROM_SOURCE`.
 */
export async function serveKiln(
  kiln: string | string[],
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<ServingKiln> {
  const command = typeof kiln === "string" ? [kiln] : kiln;
  const proc = Bun.spawn([...command, "serve", "--port", "0", "--log-format", "json", ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const lines: string[] = [];
  const waiters = new Set<{ pattern: RegExp; resolve: (line: string) => void }>();
  const read = (async () => {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of proc.stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      let newline = buffered.indexOf("\n");
      while (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        lines.push(line);
        for (const waiter of waiters) {
          if (waiter.pattern.test(line)) {
            waiters.delete(waiter);
            waiter.resolve(line);
          }
        }
        newline = buffered.indexOf("\n");
      }
    }
  })();
  // Once the process has exited and its output is read, no line will come: a waiter fails then
  // rather than at its timeout (a kiln refusing its flags says so at once).
  const ended = Promise.all([proc.exited, read]);
  let stderrText: Promise<string> | undefined;
  const stderrOnce = () => {
    stderrText ??= new Response(proc.stderr).text();
    return stderrText;
  };
  const waitForLine = (pattern: RegExp, timeoutMs = 15_000) => {
    const seen = lines.find((line) => pattern.test(line));
    if (seen) return Promise.resolve(seen);
    return new Promise<string>((resolve, reject) => {
      const waiter = { pattern, resolve };
      waiters.add(waiter);
      const fail = async (why: string) => {
        if (!waiters.delete(waiter)) return;
        clearTimeout(timer);
        const stderr = proc.exitCode === null ? "" : await stderrOnce();
        reject(new Error(`no line matching ${pattern} ${why}; stdout:\n${lines.join("\n")}\n${stderr}`));
      };
      const timer = setTimeout(() => void fail(`in ${timeoutMs} ms`), timeoutMs);
      void ended.then(([code]) => fail(`before the process exited (code ${code})`));
      waiter.resolve = (line) => {
        clearTimeout(timer);
        resolve(line);
      };
    });
  };
  const serving = JSON.parse(await waitForLine(/"msg":"kiln serving"/)) as { url: string };
  return {
    proc,
    url: serving.url,
    lines,
    waitForLine,
    stop: async (signal = "SIGTERM") => {
      if (proc.exitCode === null) proc.kill(signal);
      return proc.exited;
    },
  };
}

/** fetch with a JSON body and optional bearer token; returns status and parsed JSON. */
export async function api<T = Record<string, unknown>>(
  url: string,
  init: { method?: string; json?: unknown; token?: string; signal?: AbortSignal } = {},
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = {};
  if (init.json !== undefined) headers["content-type"] = "application/json";
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const response = await fetch(url, {
    method: init.method ?? (init.json === undefined ? "GET" : "POST"),
    headers,
    body: init.json === undefined ? null : JSON.stringify(init.json),
    signal: init.signal ?? null,
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
}
