// API latency with one request at a time, on an idle server and then with every worker busy on a
// CPU-bound task: does work on the workers slow the HTTP thread down?
import { type LoadFigures, load, postJson, type Request, type Server, waitForStatus } from "./http-client.ts";
import { type Row, round } from "./util.ts";

export interface ProbeFigures {
  idle: LoadFigures;
  loaded: LoadFigures;
  ratio: { p50: number; p99: number; requestsPerSec: number };
}

export interface ResponsivenessFigures {
  /** Tasks spinning on the workers during the loaded phases, each still RUNNING after them. */
  spinningTasks: number;
  workers: number;
  probes: Record<string, ProbeFigures>;
}

interface Probe {
  label: string;
  next: () => Request;
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
): Promise<ResponsivenessFigures> {
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

  const ids: string[] = [];
  for (let i = 0; i < workers; i++) ids.push(await server.create("bench-tick", { mode: "busy" }));
  for (const id of ids) await waitForStatus(server, id, "RUNNING", 10_000);
  const loaded: LoadFigures[] = [];
  for (const probe of probes) loaded.push(await phase(probe, "workers busy"));
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
  return { spinningTasks: ids.length, workers, probes: figures };
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
