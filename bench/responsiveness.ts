// API latency with one request at a time, on an idle server and then with every worker busy on a
// CPU-bound task: does work on the workers slow the HTTP thread down? Measured twice: with this
// process's fetch() client, and with wrk, an external load tool that shares no event loop with
// anything of the benchmark.
import { SPIN_PATH } from "./bare-elysia-server.ts";
import { type LoadFigures, load, postJson, type Request, type Server, waitForStatus } from "./http-client.ts";
import { type Row, round } from "./util.ts";
import { runWrk, type WrkFigures, wrkMissing } from "./wrk.ts";

export interface ProbeFigures {
  idle: LoadFigures;
  loaded: LoadFigures;
  ratio: { p50: number; p99: number; requestsPerSec: number };
}

export interface WrkProbeFigures {
  idle: WrkFigures;
  loaded: WrkFigures;
  /** loaded ÷ idle p99. */
  p99Ratio: number;
}

export interface ResponsivenessFigures {
  /** Tasks spinning on the workers during the loaded phases, each still RUNNING after them. */
  spinningTasks: number;
  workers: number;
  probes: Record<string, ProbeFigures>;
  /** The same probes through wrk, on one fixed path each; or why there are none. */
  wrk: { seconds: number; probes: Record<string, WrkProbeFigures> } | { skipped: string };
}

interface Probe {
  label: string;
  next: () => Request;
  /** The one path wrk requests (it sends the same request each time). */
  wrkPath: string;
}

/**
 * Each probe one request at a time for `ms` (after `warmupMs`): all idle first, then all with
 * `workers` bench-tick {mode: "busy"} tasks running, which are stopped afterwards.
 */
export async function measureResponsiveness(
  server: Server,
  workers: number,
  probes: Probe[],
  warmupMs: number,
  ms: number,
  wrkSeconds: number,
): Promise<ResponsivenessFigures> {
  const missing = wrkMissing();
  const wrkPhase = async () => {
    const out: Record<string, WrkFigures> = {};
    if (missing) return out;
    for (const probe of probes) out[probe.label] = await runWrk(`${server.base}${probe.wrkPath}`, wrkSeconds);
    return out;
  };
  const phase = (probe: Probe, state: string) =>
    load(server, {
      label: `${probe.label} (${state})`,
      concurrency: 1,
      warmupMs,
      ms,
      next: probe.next,
      expect: 200,
    });
  const idle: LoadFigures[] = [];
  for (const probe of probes) idle.push(await phase(probe, "idle"));
  const wrkIdle = await wrkPhase();

  const ids: string[] = [];
  for (let i = 0; i < workers; i++) ids.push(await server.create("bench-tick", { mode: "busy" }));
  for (const id of ids) await waitForStatus(server, id, "RUNNING", 10_000);
  const loaded: LoadFigures[] = [];
  for (const probe of probes) loaded.push(await phase(probe, "workers busy"));
  const wrkLoaded = await wrkPhase();
  // A task that had ended early would make the "loaded" figures idle ones.
  for (const id of ids) {
    const { body } = await server.json<{ status: string }>(`/tasks/${id}`);
    if (body.status !== "RUNNING")
      throw new Error(`busy task ${id} was ${body.status} during the measurement`);
  }
  for (const id of ids) {
    const { status } = await server.json<unknown>(`/tasks/${id}/stop?wait=5000`, postJson({}));
    if (status !== 200) throw new Error(`stopping busy task ${id} answered ${status}`);
    await waitForStatus(server, id, "STOPPED", 5_000);
  }

  const figures: Record<string, ProbeFigures> = {};
  probes.forEach((probe, i) => {
    const a = idle[i];
    const b = loaded[i];
    if (!a || !b) return;
    figures[probe.label] = {
      idle: a,
      loaded: b,
      ratio: {
        p50: round(b.latencyMs.median / a.latencyMs.median, 2),
        p99: round(b.latencyMs.p99 / a.latencyMs.p99, 2),
        requestsPerSec: round(b.requestsPerSec / a.requestsPerSec, 2),
      },
    };
  });
  const wrkProbes: Record<string, WrkProbeFigures> = {};
  for (const probe of probes) {
    const a = wrkIdle[probe.label];
    const b = wrkLoaded[probe.label];
    if (a && b) wrkProbes[probe.label] = { idle: a, loaded: b, p99Ratio: b.p99Ms / a.p99Ms };
  }
  return {
    spinningTasks: ids.length,
    workers,
    probes: figures,
    wrk: missing ? { skipped: missing } : { seconds: wrkSeconds, probes: wrkProbes },
  };
}

/**
 * The wrk probe's control: the same one-connection wrk run against a bare server (no kiln: a
 * constant answer, nothing behind it), idle and then with `threads` threads spinning at the
 * priority kiln gives its task workers. What the machine's scheduler alone does to the p99 of a
 * server whose cores are taken by lower-priority threads; kiln's ratio is read against it.
 */
export async function measureWrkControl(
  bare: Server,
  path: string,
  threads: number,
  wrkSeconds: number,
): Promise<WrkProbeFigures | { skipped: string }> {
  const missing = wrkMissing();
  if (missing) return { skipped: missing };
  const idle = await runWrk(`${bare.base}${path}`, wrkSeconds);
  const started = await bare.json<{ spinning: number }>(`${SPIN_PATH}?threads=${threads}`, {
    method: "POST",
  });
  if (started.status !== 200 || started.body.spinning !== threads)
    throw new Error(`the bare server did not start ${threads} spinning threads: ${JSON.stringify(started)}`);
  try {
    const loaded = await runWrk(`${bare.base}${path}`, wrkSeconds);
    return { idle, loaded, p99Ratio: loaded.p99Ms / idle.p99Ms };
  } finally {
    await bare.json(SPIN_PATH, { method: "DELETE" });
  }
}

/**
 * One wrk probe's rows under the `column` heading: idle, loaded (`loadedWhat`) and the ratio of
 * each figure, every label after `prefix`.
 */
function wrkProbeRows(column: string, prefix: string, probe: WrkProbeFigures, loadedWhat: string): Row[] {
  const cells = (what: string, w: WrkFigures): Row => ({
    [column]: `${prefix}${what}`,
    requests: w.requests,
    errors: w.errors,
    "p50 ms": w.p50Ms,
    "p90 ms": w.p90Ms,
    "p99 ms": w.p99Ms,
    "req/s": w.requestsPerSec,
  });
  const { idle, loaded } = probe;
  return [
    cells("idle", idle),
    cells(loadedWhat, loaded),
    {
      [column]: `${prefix}ratio loaded / idle`,
      requests: "-",
      errors: "-",
      "p50 ms": round(loaded.p50Ms / idle.p50Ms, 2),
      "p90 ms": round(loaded.p90Ms / idle.p90Ms, 2),
      "p99 ms": round(probe.p99Ratio, 2),
      "req/s": round(loaded.requestsPerSec / idle.requestsPerSec, 2),
    },
  ];
}

/** One row per wrk probe and state, and the loaded / idle ratio. */
export function wrkRows(figures: ResponsivenessFigures): Row[] {
  const column = "wrk, 1 connection";
  if ("skipped" in figures.wrk) return [{ [column]: figures.wrk.skipped }];
  const loadedWhat = `${figures.spinningTasks} CPU-bound tasks on ${figures.workers} workers`;
  return Object.entries(figures.wrk.probes).flatMap(([label, probe]) =>
    wrkProbeRows(column, `${label}, `, probe, loadedWhat),
  );
}

/** The wrk control's rows: idle, loaded and the ratio. */
export function wrkControlRows(control: WrkProbeFigures | { skipped: string }, threads: number): Row[] {
  const column = "wrk, 1 connection, bare app";
  if ("skipped" in control) return [{ [column]: control.skipped }];
  return wrkProbeRows(column, "GET /tasks/:id, ", control, `${threads} threads spinning`);
}

/** One row per probe and state, and the loaded / idle ratio. */
export function responsivenessRows(figures: ResponsivenessFigures): Row[] {
  const rows: Row[] = [];
  for (const [label, f] of Object.entries(figures.probes)) {
    rows.push(
      {
        "1 in flight": `${label}, idle`,
        "p50 ms": f.idle.latencyMs.median,
        "p99 ms": f.idle.latencyMs.p99,
        "max ms": f.idle.latencyMs.max,
        "req/s": f.idle.requestsPerSec,
      },
      {
        "1 in flight": `${label}, ${figures.spinningTasks} CPU-bound tasks on ${figures.workers} workers`,
        "p50 ms": f.loaded.latencyMs.median,
        "p99 ms": f.loaded.latencyMs.p99,
        "max ms": f.loaded.latencyMs.max,
        "req/s": f.loaded.requestsPerSec,
      },
      {
        "1 in flight": `${label}, ratio loaded / idle`,
        "p50 ms": f.ratio.p50,
        "p99 ms": f.ratio.p99,
        "max ms": round(f.loaded.latencyMs.max / f.idle.latencyMs.max, 2),
        "req/s": f.ratio.requestsPerSec,
      },
    );
  }
  return rows;
}
