// `bun run bench --quick` end to end: every scenario runs and measures what it says it does.
// Only correctness is checked here (counts, completions, no failures); the figures themselves
// depend on the machine and are read in BENCHMARKS.md, never asserted.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { tempDir } from "../helpers.ts";

interface PeerOutput {
  id: string;
  mode: "single" | "bulk";
  kind: "result" | "skipped" | "failed";
  reason?: string;
  error?: string;
  result?: {
    jobs: number;
    completed: number;
    completedInStore: number;
    warmupJobs: number;
    timedOut: boolean;
    durability: { level: string };
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

interface Lag {
  where: string;
  lag: { samples: number; maxMs: number };
}

interface Report {
  mode: string;
  failures: Record<string, string>;
  headlines: { scenario: string; what: string; met: boolean | null }[];
  scenarios: {
    throughput: { figures: { n: number; manager: ManagerRun[]; overHttp: ManagerRun }; lag: Lag[] };
    peers: { figures: { n: number; runs: PeerOutput[] }; lag: Lag[] };
    "control-latency": { figures: { trials: number; hardStop: { grace: number | null } }; lag: Lag[] };
    http: {
      figures: {
        finishedDuringPost: number;
        rounds: {
          first: "kiln" | "bare";
          kilnCreate: { requests: number };
          bareCreate: { requests: number };
          kilnRead: { requests: number };
          bareRead: { requests: number };
        }[];
        responsiveness: { wrk: { skipped: string } | { probes: Record<string, unknown> } };
        wrkControl: { skipped: string } | { idle: { requests: number }; loaded: { requests: number } };
        postByWrk:
          | { skipped: string }
          | {
              rounds: {
                kiln: { requests: number; errors: number };
                bare: { requests: number; errors: number };
              }[];
            };
        startup: { binary: { launches: number; medianFirstHealthMs: number } | { reason: string } };
      };
      lag: Lag[];
    };
    firehose: { figures: { tasks: number; persistedLastProgress: number }; lag: Lag[] };
    history: {
      figures: { rows: number; latency: { path: string; errors: number; lag: unknown }[] };
      lag: Lag[];
    };
    memory: { figures: { derived: Record<string, number> }; lag: Lag[] };
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
    for (const peer of peers.runs) {
      // A peer whose service is missing is skipped with its reason, printed; none may fail.
      expect({ id: peer.id, mode: peer.mode, kind: peer.kind, error: peer.error }).not.toMatchObject({
        kind: "failed",
      });
      if (peer.kind === "skipped") {
        expect(peer.reason ?? "").not.toBe("");
        expect(stdout).toContain(`skipped: ${peer.reason}`);
      } else
        expect({ id: peer.id, mode: peer.mode, timedOut: peer.result?.timedOut }).toMatchObject({
          timedOut: false,
        });
    }
    // Both APIs of kiln in both durabilities, and plainjob in-process and in worker processes.
    const mustComplete = ["kiln", "kiln-full", "plainjob", "plainjob-full-processes"];
    const completing = peers.runs.filter((peer) => mustComplete.includes(peer.id));
    expect(completing.map((peer) => `${peer.id}/${peer.mode}`).sort()).toEqual(
      mustComplete.flatMap((id) => [`${id}/single`, `${id}/bulk`]).sort(),
    );
    for (const peer of completing) {
      expect(peer.kind).toBe("result");
      expect(peer.result?.timedOut).toBe(false);
      expect(peer.result?.completed).toBe(peers.n);
      expect(peer.result?.completedInStore).toBe(peers.n + (peer.result?.warmupJobs ?? 0));
    }
    // The durability as read from each running system, not as assumed.
    const level = (id: string) => completing.find((peer) => peer.id === id)?.result?.durability.level;
    expect([level("kiln"), level("kiln-full"), level("plainjob"), level("plainjob-full-processes")]).toEqual([
      "process-crash",
      "power-loss",
      "process-crash",
      "power-loss",
    ]);

    // The hard stop waited out kiln's default grace, as its stop reason states it.
    expect(report.scenarios["control-latency"].figures.hardStop.grace).toBe(5_000);
    const http = report.scenarios.http.figures;
    expect(http.finishedDuringPost).toBeGreaterThanOrEqual(0);
    // Two rounds, in turn kiln first and the bare app first, each phase of which answered requests.
    expect(http.rounds.map((r) => r.first)).toEqual(["kiln", "bare"]);
    for (const r of http.rounds) {
      for (const phase of [r.kilnCreate, r.bareCreate, r.kilnRead, r.bareRead]) {
        expect(phase.requests).toBeGreaterThan(0);
      }
    }
    // The run built dist/kiln from this checkout and launched it, so the binary's start-up row is
    // of this code and never skipped for want of a build.
    expect(stdout).toContain("built dist/kiln from this checkout");
    expect(http.startup.binary).toHaveProperty("launches");
    if ("launches" in http.startup.binary) expect(http.startup.binary.medianFirstHealthMs).toBeGreaterThan(0);
    if ("skipped" in http.responsiveness.wrk) expect(stdout).toContain("wrk is not installed");
    else expect(Object.keys(http.responsiveness.wrk.probes).sort()).toEqual(["/health", "GET /tasks/:id"]);
    // The wrk control ran against the bare app, idle and with its spinning threads, or says why not.
    if ("skipped" in http.wrkControl) expect(http.wrkControl.skipped).toContain("wrk is not installed");
    else {
      expect(http.wrkControl.idle.requests).toBeGreaterThan(0);
      expect(http.wrkControl.loaded.requests).toBeGreaterThan(0);
    }
    // POST /tasks through wrk ran on both servers, every answer a 201, or says why not.
    if ("skipped" in http.postByWrk) expect(http.postByWrk.skipped).toContain("wrk is not installed");
    else {
      expect(http.postByWrk.rounds).toHaveLength(1);
      for (const r of http.postByWrk.rounds) {
        expect(r.kiln.requests).toBeGreaterThan(0);
        expect(r.bare.requests).toBeGreaterThan(0);
        expect(r.kiln.errors).toBe(0);
        expect(r.bare.errors).toBe(0);
      }
    }
    const queries = report.scenarios.history.figures.latency;
    expect(queries.map((q) => q.path)).toEqual(
      expect.arrayContaining(["GET /stats", "GET /metrics", "GET /tasks?tag=unused&limit=500 (no match)"]),
    );
    for (const query of queries) {
      expect(query.errors).toBe(0);
      // The server's event loop was watched during every query.
      expect(query.lag).not.toBeNull();
    }
    // Every scenario watched the bench process's event loop.
    for (const scenario of Object.values(report.scenarios)) {
      expect(scenario.lag[0]?.where).toBe("bench process");
      expect(scenario.lag[0]?.lag.samples).toBeGreaterThan(0);
    }
    // --quick judges no aim.
    expect(report.headlines.every((headline) => headline.met === null)).toBe(true);

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
