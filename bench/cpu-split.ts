// Gives the load generator a CPU of its own for a phase: this process (every thread, fetch()'s
// HTTP thread included) on one CPU, the servers under test on the others. Without it, on 2 CPUs a
// GET /tasks/:id phase on kiln now and then ran at 30,000 requests a second with kiln's server 65 %
// busy and the client 71 % (nothing else running), and the next phase, with nothing changed, at
// 46,000 with them at 91 % and 84 %: where the kernel placed the two threads, since pinning them
// apart alone ends it (kiln's server then stays 95-97 % busy in every round). Only for phases in
// which no task runs: kiln's workers would share the servers' CPUs.

export type CpuSplit = { pinned: true; client: string; servers: string } | { pinned: false; why: string };

function taskset(args: string[]): { ok: boolean; out: string } {
  const result = Bun.spawnSync(["taskset", ...args], { stdout: "pipe", stderr: "pipe" });
  return { ok: result.exitCode === 0, out: `${result.stdout.toString()}${result.stderr.toString()}`.trim() };
}

/** The CPUs `pid` may run on now, as taskset lists them ("0,1", "0-3", "0,2-5"). */
function affinityOf(pid: number): string | null {
  const { ok, out } = taskset(["-c", "-p", String(pid)]);
  return ok ? (/:\s*(\S+)$/.exec(out)?.[1] ?? null) : null;
}

export function cpuIds(list: string): number[] {
  return list.split(",").flatMap((part) => {
    const [from, to] = part.split("-").map(Number);
    if (from === undefined || Number.isNaN(from)) return [];
    const last = to ?? from;
    return Array.from({ length: last - from + 1 }, (_, i) => from + i);
  });
}

function setAffinity(pid: number, cpus: string): void {
  // -a: every thread of the process; threads started later inherit it from their creator.
  const { ok, out } = taskset(["-a", "-p", "-c", cpus, String(pid)]);
  if (!ok) throw new Error(`taskset -a -p -c ${cpus} ${pid}: ${out}`);
}

/** Runs `body` with this process on one CPU and `serverPids` on the others, then gives each its CPUs back. */
export async function withCpuSplit<T>(
  serverPids: readonly number[],
  body: (split: CpuSplit) => Promise<T>,
): Promise<T> {
  if (process.platform !== "linux") return body({ pinned: false, why: "not on Linux" });
  if (Bun.which("taskset") === null)
    return body({ pinned: false, why: "taskset (util-linux) is not installed" });
  const own = affinityOf(process.pid);
  if (own === null) return body({ pinned: false, why: "taskset could not read this process's CPUs" });
  const [client, ...rest] = cpuIds(own);
  if (client === undefined || rest.length === 0) return body({ pinned: false, why: "one CPU to run on" });
  const servers = rest.join(",");
  const before = [process.pid, ...serverPids].map((pid) => ({ pid, cpus: affinityOf(pid) ?? own }));
  try {
    setAffinity(process.pid, String(client));
    for (const pid of serverPids) setAffinity(pid, servers);
    return await body({ pinned: true, client: String(client), servers });
  } finally {
    for (const { pid, cpus: list } of before) setAffinity(pid, list);
  }
}
