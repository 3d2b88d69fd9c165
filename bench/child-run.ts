// Scenarios that must not share the bench process (a memory probe, a peer's run, a bulk
// generator) run as a Bun child that prints one JSON line last.
import { resolve } from "node:path";

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

/**
 * An empty kiln file at `path`, migrated by the kiln checkout at `root` (this one or an older
 * commit's), through the API every checkout shares.
 */
export async function migrateWith(root: string, path: string): Promise<void> {
  const script = `${path}.migrate.ts`;
  await Bun.write(
    script,
    `const { TaskManager, silentLogger } = await import(${JSON.stringify(resolve(root, "src/index.ts"))});
const manager = new TaskManager({ db: ${JSON.stringify(path)}, logger: silentLogger });
await manager.start();
await manager.shutdown();`,
  );
  const { code, err } = await runBunChild([script], 60_000);
  if (code !== 0) throw new Error(`migrating ${path} with ${root} failed: ${err}`);
}
