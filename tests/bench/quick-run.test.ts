// `bun run bench --quick` end to end: every scenario runs and measures what it says it does.
// Only correctness is checked here (counts, completions, no failures); the figures themselves
// depend on the machine and are read in BENCHMARKS.md, never asserted.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { tempDir } from "../helpers.ts";

interface PeerOutput {
  id: string;
  kind: "result" | "skipped" | "failed";
  reason?: string;
  error?: string;
  result?: {
    jobs: number;
    completed: number;
    completedInStore: number;
    warmupJobs: number;
    timedOut: boolean;
  };
}

interface ManagerRun {
  api: string;
  tasks: number;
  finished: number;
  timedOut: boolean;
  finishedInDb: number;
  warmupTasks: number;
}

interface Report {
  mode: string;
  failures: Record<string, string>;
  headlines: { scenario: string; what: string }[];
  scenarios: {
    throughput: { figures: { n: number; manager: ManagerRun[]; overHttp: ManagerRun } };
    peers: { figures: { n: number; results: PeerOutput[] } };
    "control-latency": { figures: { trials: number } };
    firehose: { figures: { tasks: number; persistedLastProgress: number } };
    history: { figures: { rows: number } };
    memory: { figures: { derived: Record<string, number> } };
  };
}

test("bun run bench --quick runs every scenario to the end and each system completes its jobs", async () => {
  const dir = tempDir("kiln-bench-");
  try {
    const out = join(dir.path, "quick.json");
    const child = Bun.spawn([process.execPath, "bench/run.ts", "--quick", "--out", out], {
      cwd: join(import.meta.dir, "../.."),
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, code] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    if (code !== 0) console.error(stdout.slice(-4_000), stderr.slice(-4_000));
    expect(code).toBe(0);
    expect(stdout).toContain("## against the aims");
    const report = (await Bun.file(out).json()) as Report;
    expect(report.mode).toBe("quick");
    expect(report.failures).toEqual({});
    expect(Object.keys(report.scenarios).sort()).toEqual(
      ["control-latency", "firehose", "history", "http", "memory", "peers", "throughput"].sort(),
    );

    const { n, manager, overHttp } = report.scenarios.throughput.figures;
    expect(manager.map((run) => run.api).sort()).toEqual(
      ["create", "create", "create", "submit", "submit", "submit"].sort(),
    );
    for (const run of [...manager, overHttp]) {
      expect(run.timedOut).toBe(false);
      expect(run.finished).toBe(n);
      // Every task the run counted is FINISHED in its database, warm-up included.
      expect(run.finishedInDb).toBe(n + run.warmupTasks);
    }

    const peers = report.scenarios.peers.figures;
    for (const peer of peers.results) {
      // A peer whose service is missing is skipped with its reason; none may fail.
      expect({ id: peer.id, kind: peer.kind, error: peer.error }).not.toMatchObject({ kind: "failed" });
      if (peer.kind === "skipped") expect(peer.reason ?? "").not.toBe("");
    }
    const kilnRuns = peers.results.filter((peer) => peer.id === "kiln" || peer.id === "kiln-create");
    expect(kilnRuns.map((peer) => peer.id).sort()).toEqual(["kiln", "kiln", "kiln-create"]);
    for (const peer of [...kilnRuns, ...peers.results.filter((p) => p.id === "plainjob")]) {
      expect(peer.kind).toBe("result");
      expect(peer.result?.timedOut).toBe(false);
      expect(peer.result?.completed).toBe(peers.n);
      expect(peer.result?.completedInStore).toBe(peers.n + (peer.result?.warmupJobs ?? 0));
    }

    expect(report.scenarios["control-latency"].figures.trials).toBeGreaterThan(0);
    const firehose = report.scenarios.firehose.figures;
    expect(firehose.persistedLastProgress).toBe(firehose.tasks);
    expect(report.scenarios.history.figures.rows).toBe(100_000);
    expect(report.scenarios.memory.figures.derived.rssPerIdleWorkerMiB).toBeGreaterThan(0);
    expect(report.headlines.map((headline) => headline.scenario)).toContain("peers");
  } finally {
    dir.remove();
  }
}, 300_000);
