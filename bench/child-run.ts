// Scenarios that must not share the bench process (a memory probe, a peer's run, a bulk
// generator) run as a Bun child that prints one JSON line last.

export interface ChildRun {
  code: number;
  out: string;
  err: string;
  /** The last line the child printed on stdout: where it puts its result. */
  lastLine: string | undefined;
}

/** Runs `bun <args>` to the end, killed with SIGKILL after `killAfterMs` when given. */
export async function runBunChild(
  args: string[],
  killAfterMs?: number,
  env?: Record<string, string>,
): Promise<ChildRun> {
  const child = Bun.spawn([process.execPath, ...args], {
    stdout: "pipe",
    stderr: "pipe",
    env: env === undefined ? undefined : { ...process.env, ...env },
  });
  const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), killAfterMs);
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  clearTimeout(timer);
  return { code, out, err, lastLine: out.trim().split("\n").at(-1) };
}
