// The http scenario's throughput comparison: POST /tasks and GET /tasks/:id on kiln and on a bare
// Elysia app, both servers up at once, in rounds whose order rotates (kiln first, then bare first,
// and so on). Each round gives a kiln ÷ bare ratio per route; the aims are judged on the median
// ratio of the rounds, so that one slow moment of the machine sways one round, not the verdict.
import { type CpuSplit, withCpuSplit } from "./cpu-split.ts";
import {
  type LoadFigures,
  type LoadOptions,
  load,
  postJson,
  randomTaskOf,
  type Server,
  type TaskBody,
  waitForUsage,
} from "./http-client.ts";
import { median, round } from "./util.ts";

/** Requests kept in flight by the load generator during the throughput phases. */
export const CLIENT_CONCURRENCY = 16;
const DRAIN_TIMEOUT_MS = 120_000;

export interface RoundPhases {
  rounds: number;
  /** Unrecorded time before each phase of the first round: each server's first of that kind. */
  firstWarmupMs: number;
  warmupMs: number;
  ms: number;
}

type Throughput = Pick<
  LoadOptions,
  "label" | "next" | "expect" | "onBody" | "onRecordingStart" | "onRecordingEnd"
>;

const closedLoop = (target: Server, phases: RoundPhases, roundIndex: number, options: Throughput) =>
  load(target, {
    concurrency: CLIENT_CONCURRENCY,
    warmupMs: roundIndex === 0 ? phases.firstWarmupMs : phases.warmupMs,
    ms: phases.ms,
    ...options,
  });

export interface ThroughputRound {
  round: number;
  /** Which server each route was measured on first in this round. */
  first: "kiln" | "bare";
  kilnCreate: LoadFigures;
  bareCreate: LoadFigures;
  kilnRead: LoadFigures;
  bareRead: LoadFigures;
  /** kiln's requests per second ÷ bare Elysia's in this round, unrounded. */
  postRatio: number | null;
  getRatio: number | null;
  /** bench-noop tasks that reached FINISHED on kiln while its POST phase was recorded. */
  finishedDuringPost: number;
  finishedPerSecDuringPost: number;
  /** How long kiln's backlog then took to drain, before anything else was measured. */
  drainMs: number;
}

export interface ThroughputRounds {
  rounds: ThroughputRound[];
  /** Medians over the rounds. */
  postRatio: number | null;
  getRatio: number | null;
  finishedPerSecDuringPost: number;
  /** How the CPUs were shared in the GET /tasks/:id phases (the last round's; every round's is alike). */
  readSplit: CpuSplit | null;
  /** Task ids created on kiln, for the phases that follow. */
  ids: string[];
}

const share = (kiln: LoadFigures, bare: LoadFigures) =>
  bare.requestsPerSec > 0 ? kiln.requestsPerSec / bare.requestsPerSec : null;

const medianOf = (values: (number | null)[]): number | null => {
  const known = values.filter((value): value is number => value !== null);
  return known.length === 0 ? null : median(known);
};

/** Runs kiln's phase then the bare app's, or the other way round; answers (kiln, bare) either way. */
async function inOrder<T>(
  kilnFirst: boolean,
  kiln: () => Promise<T>,
  bare: () => Promise<T>,
): Promise<[T, T]> {
  if (kilnFirst) {
    const k = await kiln();
    return [k, await bare()];
  }
  const b = await bare();
  return [await kiln(), b];
}

/** Waits until `server` has nothing queued or running; answers how long that took, in ms. */
export async function drainBacklog(server: Server, what: string): Promise<number> {
  const t0 = performance.now();
  await waitForUsage(
    server,
    (u) => u.queued === 0 && u.running === 0,
    DRAIN_TIMEOUT_MS,
    `${what} to drain`,
    50,
  );
  return round(performance.now() - t0, 0);
}

export async function throughputRounds(
  kiln: Server,
  bare: Server,
  phases: RoundPhases,
): Promise<ThroughputRounds> {
  const ids: string[] = [];
  const rounds: ThroughputRound[] = [];
  const randomTask = randomTaskOf(ids);
  let readSplit: CpuSplit | null = null;
  for (let r = 0; r < phases.rounds; r++) {
    const kilnFirst = r % 2 === 0;
    let finishedAtStart = 0;
    let finishedAtEnd = 0;
    let drainMs = 0;
    const [kilnCreate, bareCreate] = await inOrder(
      kilnFirst,
      async () => {
        const figures = await closedLoop(kiln, phases, r, {
          label: `POST /tasks (bench-noop), round ${r + 1}`,
          next: () => ({ path: "/tasks", init: postJson({ name: "bench-noop" }) }),
          expect: 201,
          onBody: (body) => ids.push((JSON.parse(body) as TaskBody).id),
          onRecordingStart: async () => {
            finishedAtStart = (await kiln.usage()).finishedEvents;
          },
          onRecordingEnd: async () => {
            finishedAtEnd = (await kiln.usage()).finishedEvents;
          },
        });
        // The backlog drains before anything else is measured: its runs would take CPU from it.
        drainMs = await drainBacklog(kiln, "the POST /tasks backlog");
        return figures;
      },
      () =>
        closedLoop(bare, phases, r, {
          label: `bare Elysia: POST /tasks, round ${r + 1}`,
          next: () => ({ path: "/tasks", init: postJson({ name: "bench-noop" }) }),
          expect: 201,
        }),
    );
    if (ids.length === 0) throw new Error("POST /tasks created no task");
    // No task runs in these phases (the backlog drained above), so the servers may share CPUs
    // that the load generator keeps out of (bench/cpu-split.ts says why).
    const [kilnRead, bareRead] = await withCpuSplit([kiln.process.pid, bare.process.pid], (split) => {
      readSplit = split;
      return inOrder(
        kilnFirst,
        () =>
          closedLoop(kiln, phases, r, {
            label: `GET /tasks/:id, round ${r + 1}`,
            next: randomTask,
            expect: 200,
          }),
        () =>
          closedLoop(bare, phases, r, {
            label: `bare Elysia: GET /tasks/:id, round ${r + 1}`,
            next: randomTask,
            expect: 200,
          }),
      );
    });
    const finishedDuringPost = finishedAtEnd - finishedAtStart;
    rounds.push({
      round: r + 1,
      first: kilnFirst ? "kiln" : "bare",
      kilnCreate,
      bareCreate,
      kilnRead,
      bareRead,
      postRatio: share(kilnCreate, bareCreate),
      getRatio: share(kilnRead, bareRead),
      finishedDuringPost,
      finishedPerSecDuringPost: round((finishedDuringPost / kilnCreate.ms) * 1000, 0),
      drainMs,
    });
  }
  return {
    rounds,
    postRatio: medianOf(rounds.map((r) => r.postRatio)),
    getRatio: medianOf(rounds.map((r) => r.getRatio)),
    finishedPerSecDuringPost: median(rounds.map((r) => r.finishedPerSecDuringPost)),
    readSplit,
    ids,
  };
}

/** The rounds' ratios, as shown: "× median (rounds: a, b, …)". */
export function ratioText(median: number | null, byRound: (number | null)[]): string {
  const shown = (ratio: number | null) => (ratio === null ? "-" : String(round(ratio, 3)));
  return `× ${shown(median)} (rounds: ${byRound.map(shown).join(", ")})`;
}

/** Requests per second of one kind of phase over the rounds: median and range. */
export function rateText(figures: LoadFigures[]): string {
  const rates = figures.map((f) => f.requestsPerSec);
  return `${round(median(rates), 0)} (${Math.min(...rates)}–${Math.max(...rates)})`;
}
