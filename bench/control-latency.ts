// Scenario "control-latency": how long pause, resume and stop take to land on a task that
// checkpoints about every millisecond, and how long a stop takes on a task that never checkpoints.
import { silentLogger, TaskManager } from "../src/index.ts";
import { RESUMED_LOG, SPIN_LOG, STARTED_LOG } from "./tasks.ts";
import {
  type BenchOptions,
  EventWaiter,
  type Row,
  round,
  type Scenario,
  type ScenarioResult,
  type Summary,
  summarize,
  TASKS_URL,
  tempDir,
} from "./util.ts";

type Mode = "sleep" | "busy";
/** Each hard stop waits out the default grace (5 s): few trials, and one with --quick. */
const HARD_STOP_TRIALS = 5;
const WAIT_MS = 5_000;
/** A hard stop's wait: the grace, then the worker's termination. */
const HARD_STOP_WAIT_MS = 30_000;

/** A random pause of 3-6 ms, so requests do not fall in step with the task's 1 ms rhythm. */
const jitter = () => Bun.sleep(3 + Math.random() * 3);
/** The tasks' checkpoint interval, and the aim: pause and stop land within 2 ms of it at p99. */
const CHECKPOINT_INTERVAL_MS = 1;
const AIM_P99_MS = CHECKPOINT_INTERVAL_MS + 2;

export interface ModeFigures {
  mode: Mode;
  /** pause() call → transition to PAUSED (the worker acknowledged at a checkpoint, the row is written). */
  pause: Summary;
  /** How long the pause() call itself blocks its caller (the request is stored before it returns). */
  pauseCall: Summary;
  /** resume() call → transition to RUNNING (main thread: PAUSED → PENDING → RUNNING on its parked worker). */
  resume: Summary;
  /** resume() call → the task's first line of code after its checkpoint ran (a log line it sends). */
  resumeInWorker: Summary;
  /**
   * Resumes after which the task did not continue on its parked worker but ran again from the
   * top of run() (the worker had been released while paused): resume() call → run() started.
   */
  rerunAfterRelease: Summary;
  /** stop() call → transition to STOPPED (TaskStopped thrown at a checkpoint, post() ran, row written). */
  stop: Summary;
}

/** Creates a tick task and resolves once its code runs (its worker has imported the module). */
async function startTick(manager: TaskManager, waiter: EventWaiter, mode: Mode): Promise<string> {
  const started = waiter.wait(
    (e) => e.type === "log" && e.message === STARTED_LOG,
    WAIT_MS,
    "a tick task to start",
  );
  const { task } = await manager.create("bench-tick", { mode });
  await started;
  return task.id;
}

export async function measureMode(
  manager: TaskManager,
  waiter: EventWaiter,
  mode: Mode,
  trials: number,
): Promise<ModeFigures> {
  const pause: number[] = [];
  const pauseCall: number[] = [];
  const resume: number[] = [];
  const resumeInWorker: number[] = [];
  const rerun: number[] = [];
  const stop: number[] = [];

  const id = await startTick(manager, waiter, mode);
  await Bun.sleep(10);
  for (let i = 0; i < trials; i++) {
    const paused = waiter.transition(id, "PAUSED", WAIT_MS);
    const t0 = performance.now();
    await manager.pause(id);
    pauseCall.push(performance.now() - t0);
    pause.push((await paused) - t0);
    await jitter();

    const running = waiter.transition(id, "RUNNING", WAIT_MS);
    // Either the paused run continues (RESUMED_LOG) or, if its worker was taken back while it
    // was paused, the task runs again from its last checkpoint on a worker (STARTED_LOG).
    let how: "continued" | "ran again" = "continued";
    const ran = waiter.wait(
      (e) => {
        if (e.type !== "log" || e.taskId !== id) return false;
        if (e.message === STARTED_LOG) how = "ran again";
        return e.message === RESUMED_LOG || e.message === STARTED_LOG;
      },
      WAIT_MS,
      `task ${id} to run again after resume`,
    );
    const t1 = performance.now();
    await manager.resume(id);
    resume.push((await running) - t1);
    const ranAt = (await ran) - t1;
    (how === "continued" ? resumeInWorker : rerun).push(ranAt);
    await jitter();
  }
  const ended = waiter.transition(id, "STOPPED", WAIT_MS);
  await manager.stop(id);
  await ended;

  for (let i = 0; i < trials; i++) {
    const victim = await startTick(manager, waiter, mode);
    await jitter();
    const stopped = waiter.transition(victim, "STOPPED", WAIT_MS);
    const t0 = performance.now();
    await manager.stop(victim);
    stop.push((await stopped) - t0);
  }
  return {
    mode,
    pause: summarize(pause),
    pauseCall: summarize(pauseCall),
    resume: summarize(resume),
    resumeInWorker: summarize(resumeInWorker),
    rerunAfterRelease: summarize(rerun),
    stop: summarize(stop),
  };
}

interface HardStopFigures {
  /** The grace kiln applied, as its recorded stop reason states it (the manager's default). */
  grace: number | null;
  stop: Summary;
  reasons: string[];
  /** Process CPU over one second of an idle manager right after the trials: a leaked spinning thread shows here. */
  cpuPercentAfter: number;
  workersAfter: number;
}

async function measureHardStop(
  manager: TaskManager,
  waiter: EventWaiter,
  trials: number,
): Promise<HardStopFigures> {
  const times: number[] = [];
  const reasons = new Set<string>();
  for (let i = 0; i < trials; i++) {
    const spinning = waiter.wait(
      (e) => e.type === "log" && e.message === SPIN_LOG,
      WAIT_MS,
      "the spinning task's log line",
    );
    const { task } = await manager.create("bench-spin", null);
    await spinning;
    await Bun.sleep(20);
    const stopped = waiter.transition(task.id, "STOPPED", HARD_STOP_WAIT_MS);
    const t0 = performance.now();
    await manager.stop(task.id);
    times.push((await stopped) - t0);
    reasons.add((await manager.require(task.id)).statusReason ?? "(none)");
  }
  const stated = [...reasons].map((reason) => /within (\d+) ms/.exec(reason)?.[1]).find(Boolean);
  await Bun.sleep(200);
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  await Bun.sleep(1_000);
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - wall0;
  return {
    grace: stated === undefined ? null : Number(stated),
    stop: summarize(times),
    reasons: [...reasons],
    cpuPercentAfter: round(((cpu.user + cpu.system) / 1000 / wall) * 100, 0),
    workersAfter: manager.stats().workers,
  };
}

const latencyRow = (what: string, s: Summary): Row => ({
  what,
  trials: s.n,
  "median ms": s.median,
  "p90 ms": s.p90,
  "p99 ms": s.p99,
  "max ms": s.max,
});

export const controlLatency: Scenario = {
  name: "control-latency",
  async run(options: BenchOptions): Promise<ScenarioResult> {
    const trials = options.quick ? 50 : 200;
    const tmp = tempDir("control");
    const manager = new TaskManager({ db: tmp.db, concurrency: 2, logger: silentLogger });
    const waiter = new EventWaiter(manager);
    try {
      await manager.load(TASKS_URL);
      await manager.start();
      const modes: ModeFigures[] = [];
      for (const mode of ["sleep", "busy"] as const)
        modes.push(await measureMode(manager, waiter, mode, trials));
      const hard = await measureHardStop(manager, waiter, options.quick ? 1 : HARD_STOP_TRIALS);

      const rows: Row[] = [];
      for (const m of modes) {
        const label = m.mode === "sleep" ? "sleep(1)" : "busy 1ms";
        rows.push(
          latencyRow(`[${label}] pause → PAUSED`, m.pause),
          latencyRow(`[${label}]   pause() call returns`, m.pauseCall),
          latencyRow(`[${label}] resume → RUNNING`, m.resume),
          latencyRow(`[${label}] resume → task code runs`, m.resumeInWorker),
          latencyRow(`[${label}]   resume → run() again (worker was released)`, m.rerunAfterRelease),
          latencyRow(`[${label}] stop → STOPPED`, m.stop),
        );
      }
      rows.push(
        latencyRow(`hard stop (for(;;){}, default grace ${hard.grace ?? "?"} ms) → STOPPED`, hard.stop),
      );
      const sleep = modes.find((m) => m.mode === "sleep");
      const busy = modes.find((m) => m.mode === "busy");
      const p99s = (pick: (m: ModeFigures) => Summary) =>
        `${sleep ? pick(sleep).p99 : "-"} / ${busy ? pick(busy).p99 : "-"} ms`;
      const within = (pick: (m: ModeFigures) => Summary) => modes.every((m) => pick(m).p99 <= AIM_P99_MS);
      return {
        name: "control-latency",
        headlines: [
          {
            what: "pause → PAUSED p99, sleep(1) / busy 1 ms task",
            aim: `≤ ${AIM_P99_MS} ms (checkpoint every ${CHECKPOINT_INTERVAL_MS} ms + 2 ms)`,
            measured: p99s((m) => m.pause),
            met: within((m) => m.pause),
          },
          {
            what: "stop → STOPPED p99, sleep(1) / busy 1 ms task",
            aim: `≤ ${AIM_P99_MS} ms (checkpoint every ${CHECKPOINT_INTERVAL_MS} ms + 2 ms)`,
            measured: p99s((m) => m.stop),
            met: within((m) => m.stop),
          },
          {
            what: "hard stop of a CPU loop at the default grace: STOPPED after the grace period, p99",
            aim: "-",
            measured:
              hard.grace === null
                ? `${hard.stop.p99} ms (the stop reason states no grace)`
                : `${round(hard.stop.p99 - hard.grace, 1)} ms after the ${hard.grace} ms grace`,
            met: null,
          },
        ],
        tables: [{ title: "control-latency (concurrency 2, one task controlled at a time)", rows }],
        figures: { trials, modes, hardStop: hard },
        notes: [
          "[sleep(1)]: the task runs `await this.checkpoint(); await Bun.sleep(1)` in a loop; [busy 1ms]: it spins 1 ms on performance.now() between checkpoints.",
          "Each latency runs from just before the manager call to the manager's `transition` event (emitted after the row and its event are written).",
          "'resume → task code runs': until the log line the task sends from the first statement after its checkpoint reaches the main thread.",
          `Resumes where the paused run had lost its worker and run() started again from the top: ${modes
            .map((m) => `${m.mode} ${m.rerunAfterRelease.n} of ${trials}`)
            .join(", ")} (only one task is ever paused here, maxParkedWorkers is the default 16).`,
          `Hard stop: a task in for(;;){} that sets no stopGraceMs, on a manager that sets none either, so kiln's default grace applies (the figure in the row is the one kiln's recorded stop reason states); ${hard.stop.n} trial(s). Stop reason(s) recorded: ${hard.reasons.join(" | ")}.`,
          `After the hard stops: process CPU over 1 s of idling = ${hard.cpuPercentAfter}% (≈0 means the terminated spinning workers are really gone), workers alive = ${hard.workersAfter}.`,
        ],
      };
    } finally {
      waiter.close();
      await manager.shutdown();
      tmp.cleanup();
    }
  },
};
