// The figures of the peers scenario from its runs: per system and mode the median and spread
// over rounds, kiln ÷ peer computed within each round and then its median, grouped by what an
// acknowledged job survives as read from each running system.
import { lagText } from "../lag-monitor.ts";
import { type Headline, median, type Row, round } from "../util.ts";
import { LEVEL_WORDS } from "./durability-level.ts";
import { KILN_IDS, type PeerId } from "./index.ts";
import type { RoundRun } from "./rounds.ts";
import type { DurabilityLevel, EnqueueMode, PeerResult } from "./types.ts";

export interface Series {
  id: PeerId;
  mode: EnqueueMode;
  label: string;
  level: DurabilityLevel | null;
  /** Completed runs by round. */
  byRound: Map<number, PeerResult>;
  attempts: number;
  /** Why runs did not complete (skipped, failed, timed out). */
  problems: string[];
  medianJobsPerSec: number | null;
}

export interface Ratio {
  /** Rounded to 2 digits, for the tables; an aim is judged on `exactMedian`. */
  median: number;
  exactMedian: number;
  min: number;
  max: number;
  rounds: number;
}

const firstLine = (text: string) => text.split("\n", 1)[0] ?? "";

export function seriesOf(runs: readonly RoundRun[]): Series[] {
  const map = new Map<string, Series>();
  for (const run of runs) {
    const key = `${run.id}/${run.mode}`;
    let series = map.get(key);
    if (!series) {
      series = {
        id: run.id,
        mode: run.mode,
        label: run.output.kind === "result" ? run.output.result.label : run.output.label,
        level: null,
        byRound: new Map(),
        attempts: 0,
        problems: [],
        medianJobsPerSec: null,
      };
      map.set(key, series);
    }
    series.attempts++;
    const { output } = run;
    if (output.kind === "skipped") series.problems.push(`skipped: ${output.reason}`);
    else if (output.kind === "failed") series.problems.push(`FAILED: ${firstLine(output.error)}`);
    else if (output.result.timedOut)
      series.problems.push(
        `TIMED OUT in round ${run.round + 1} (${output.result.completed} of ${output.result.jobs})`,
      );
    else {
      series.byRound.set(run.round, output.result);
      series.label = output.result.label;
      series.level ??= output.result.durability.level;
    }
  }
  for (const series of map.values()) {
    const rates = [...series.byRound.values()].map((r) => r.jobsPerSec);
    series.medianJobsPerSec = rates.length > 0 ? round(median(rates), 0) : null;
  }
  return [...map.values()];
}

/** a ÷ b within each round both completed, then the median and range of those. */
export function ratio(a: Series, b: Series): Ratio | null {
  const values: number[] = [];
  for (const [r, result] of a.byRound) {
    const other = b.byRound.get(r);
    if (other && other.jobsPerSec > 0) values.push(result.jobsPerSec / other.jobsPerSec);
  }
  if (values.length === 0) return null;
  return {
    median: round(median(values), 2),
    exactMedian: median(values),
    min: round(Math.min(...values), 2),
    max: round(Math.max(...values), 2),
    rounds: values.length,
  };
}

export const ratioText = (r: Ratio | null) =>
  r === null ? "-" : r.rounds > 1 ? `× ${r.median} (${r.min}–${r.max})` : `× ${r.median}`;

const isKiln = (s: Series) => KILN_IDS.includes(s.id);
const kilnBest = (s: Series) => s.id === "kiln-best" || s.id === "kiln-full-best" || s.id === "kiln-pg-best";
const isKilnPg = (s: Series) => s.id === "kiln-pg" || s.id === "kiln-pg-best";

function spread(values: number[]): string {
  if (values.length === 0) return "-";
  const min = Math.min(...values);
  const max = Math.max(...values);
  return min === max ? `${min}` : `${min}–${max}`;
}

function row(series: Series, refs: { label: string; series: Series | undefined }[]): Row {
  const results = [...series.byRound.values()];
  const other = results
    .map((r) =>
      r.machineCpuPercent === null ? null : Math.max(0, r.machineCpuPercent - r.processCpuPercent),
    )
    .filter((v): v is number => v !== null);
  const loads = results.map((r) => r.loadAverage).filter((v): v is number => v !== null);
  const cells: Row = {
    system: series.label,
    runs: `${results.length}/${series.attempts}`,
    "jobs/s median": series.medianJobsPerSec ?? "-",
    "min–max": spread(results.map((r) => r.jobsPerSec)),
  };
  for (const ref of refs) {
    cells[`${ref.label} ÷ this`] = isKiln(series) || !ref.series ? "-" : ratioText(ratio(ref.series, series));
  }
  cells["load avg before"] = loads.length > 0 ? round(median(loads), 2) : "-";
  cells["other CPU %"] = other.length > 0 ? round(median(other), 0) : "-";
  cells["event loop (worst run)"] = lagText(
    results.reduce<PeerResult["lag"] | undefined>(
      (w, r) => (!w || r.lag.maxMs > w.maxMs ? r.lag : w),
      undefined,
    ),
  );
  if (series.problems.length > 0) cells.system = `${series.label} — ${series.problems[0]}`;
  return cells;
}

const LEVEL_TITLE: Record<DurabilityLevel, string> = {
  "process-crash": "survives a process crash (not a power loss)",
  "power-loss": "survives a power loss",
  none: "acknowledged before it is written (no durability), for reference",
};

export interface PeerTable {
  title: string;
  rows: Row[];
}

/** One table per mode and guarantee, kiln's configurations of that guarantee first. */
export function comparisonTables(all: Series[], n: number, rounds: number): PeerTable[] {
  const tables: PeerTable[] = [];
  for (const mode of ["single", "bulk"] as const) {
    const ofMode = all.filter((s) => s.mode === mode);
    for (const level of ["process-crash", "power-loss", "none"] as const) {
      const members = ofMode.filter((s) => s.level === level);
      if (members.length === 0) continue;
      // A guarantee kiln does not offer is compared with kiln's default durability.
      const kilnOfLevel = members.filter(isKiln);
      const kilnRefs =
        kilnOfLevel.length > 0 ? kilnOfLevel : ofMode.filter((s) => isKiln(s) && s.level === "process-crash");
      // kiln on SQLite and kiln on PostgreSQL each get their own columns when both ran.
      const refs = [false, true].flatMap((pg) => {
        const family = kilnRefs.filter((s) => isKilnPg(s) === pg);
        if (family.length === 0) return [];
        const name = pg ? "kiln-pg" : "kiln";
        return [
          { label: `${name} defaults`, series: family.find((s) => !kilnBest(s)) },
          { label: `${name} best`, series: family.find(kilnBest) },
        ];
      });
      const ordered = [
        ...members.filter(isKiln),
        ...members
          .filter((s) => !isKiln(s))
          .sort((a, b) => (b.medianJobsPerSec ?? 0) - (a.medianJobsPerSec ?? 0)),
      ];
      tables.push({
        title: `peers, ${mode === "single" ? "single enqueue (one call per job)" : "bulk enqueue (one call per 1,000 jobs)"}: ${LEVEL_TITLE[level]} — ${n.toLocaleString("en-US")} no-op jobs, ${rounds} round${rounds === 1 ? "" : "s"}`,
        rows: ordered.map((s) => row(s, refs)),
      });
    }
  }
  const unrun = all.filter((s) => s.level === null);
  if (unrun.length > 0) {
    tables.push({
      title: "peers: runs that did not complete",
      rows: unrun.map((s) => ({
        system: s.label,
        mode: s.mode,
        runs: `0/${s.attempts}`,
        why: s.problems[0] ?? "-",
      })),
    });
  }
  return tables;
}

/** What each system was configured with, and its durability as read from it while it ran. */
export function configurationRows(all: Series[]): Row[] {
  const seen = new Set<PeerId>();
  const rows: Row[] = [];
  for (const series of all) {
    const result = [...series.byRound.values()][0];
    if (seen.has(series.id) || !result) continue;
    seen.add(series.id);
    rows.push({
      system: result.label,
      version: result.version,
      settings: result.settings,
      "why these": result.why,
      "durability as read": `${result.durability.setting} → ${LEVEL_WORDS[result.durability.level]}`,
    });
  }
  return rows;
}

/** The fastest non-kiln series of a mode whose guarantee is at least `atLeast`. */
function fastestPeer(all: Series[], mode: EnqueueMode, levels: DurabilityLevel[]): Series | undefined {
  return all
    .filter((s) => s.mode === mode && !isKiln(s) && s.level !== null && levels.includes(s.level))
    .sort((a, b) => (b.medianJobsPerSec ?? 0) - (a.medianJobsPerSec ?? 0))[0];
}

function versus(kiln: Series | undefined, peer: Series | undefined) {
  if (!kiln?.medianJobsPerSec) return { r: null, text: "not measured: kiln did not run or complete" };
  if (!peer?.medianJobsPerSec) return { r: null, text: "not measured: no peer of that guarantee completed" };
  const r = ratio(kiln, peer);
  return {
    r,
    text: `${kiln.label} ${kiln.medianJobsPerSec.toLocaleString("en-US")} jobs/s vs ${peer.label} ${peer.medianJobsPerSec.toLocaleString("en-US")}: ${ratioText(r)}`,
  };
}

/** The aims of the issue that the peers measure, at kiln's default settings, and the same for durability full. */
export function peerHeadlines(all: Series[]): Headline[] {
  const find = (id: PeerId, mode: EnqueueMode) => all.find((s) => s.id === id && s.mode === mode);
  const durable: DurabilityLevel[] = ["process-crash", "power-loss"];
  const single = versus(find("kiln", "single"), fastestPeer(all, "single", durable));
  const bulk = versus(find("kiln", "bulk"), fastestPeer(all, "bulk", durable));
  const fullSingle = versus(find("kiln-full", "single"), fastestPeer(all, "single", ["power-loss"]));
  const fullBulk = versus(find("kiln-full", "bulk"), fastestPeer(all, "bulk", ["power-loss"]));
  const kilnSingle = find("kiln", "single")?.medianJobsPerSec ?? 0;
  const postgresPeers = (mode: EnqueueMode) =>
    all
      .filter((s) => s.mode === mode && (s.id === "pg-boss" || s.id === "graphile-worker"))
      .sort((a, b) => (b.medianJobsPerSec ?? 0) - (a.medianJobsPerSec ?? 0))[0];
  const pgSingle = versus(find("kiln-pg", "single"), postgresPeers("single"));
  const pgBulk = versus(find("kiln-pg", "bulk"), postgresPeers("bulk"));
  return [
    {
      what: "no-op tasks end to end, durable, single enqueue: kiln defaults ÷ the fastest durable peer",
      aim: "≥ 2× and ≥ 30,000 tasks/s",
      measured: single.text,
      met: single.r === null ? null : single.r.exactMedian >= 2 && kilnSingle >= 30_000,
    },
    {
      what: "same, bulk enqueue",
      aim: "≥ 2×",
      measured: bulk.text,
      met: bulk.r === null ? null : bulk.r.exactMedian >= 2,
    },
    {
      what: "kiln --durability full ÷ the fastest peer that survives a power loss, single / bulk",
      aim: "-",
      measured: `${fullSingle.text} / ${ratioText(fullBulk.r)}`,
      met: null,
    },
    {
      what: "kiln on PostgreSQL (defaults) ÷ the fastest PostgreSQL peer, single / bulk",
      aim: "-",
      measured: `${pgSingle.text} / ${ratioText(pgBulk.r)}`,
      met: null,
    },
  ];
}
