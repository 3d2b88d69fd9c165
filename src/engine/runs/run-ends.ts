import type { TurnCommits } from "../commit/turn-commits.ts";
import type { EngineWrite } from "../commit/write-retry.ts";
import { holdsSlot } from "../lifecycle/run-phase.ts";
import type { RunEnd, RunSettlement } from "../lifecycle/run-settlement.ts";
import type { TaskDispatch } from "../queue/task-dispatch.ts";
import type { ParkedRuns } from "./parked-runs.ts";
import type { WorkerPool } from "./pool.ts";
import type { RunExecutorParts } from "./run-executor.ts";
import type { RunFences } from "./run-fences.ts";
import type { RunTable } from "./run-table.ts";
import { clearRunTimers, type LiveRun } from "./runs.ts";

/**
 * A run leaving this node: its end, reported by its worker (or made for it), settled in the
 * task's lane; or the run abandoned when this node lost the task's claim. Either way the run
 * gives back its slot and its worker.
 */
export class RunEnds {
  private readonly pool: WorkerPool;
  private readonly commits: TurnCommits;
  private readonly dispatcher: TaskDispatch;
  private readonly settlement: RunSettlement;
  private readonly fences: RunFences | undefined;

  constructor(
    private readonly table: RunTable,
    private readonly parked: ParkedRuns,
    parts: Pick<RunExecutorParts, "pool" | "commits" | "dispatcher" | "settlement" | "fences">,
  ) {
    this.pool = parts.pool;
    this.commits = parts.commits;
    this.dispatcher = parts.dispatcher;
    this.settlement = parts.settlement;
    this.fences = parts.fences;
  }

  /**
   * The worker reported (or was made to report) the end of a run: once the task's lane is free,
   * the run is over in memory and its end is written in the turn's commit.
   */
  end(run: LiveRun, end: RunEnd, cause?: "shutdown"): void {
    // Measured now: a write kept through a storage fault is made later.
    const at = performance.now();
    this.commits.defer(run.taskId, `the end of task ${run.taskId}`, () => this.#endNow(run, end, cause, at));
  }

  #endNow(run: LiveRun, end: RunEnd, cause: "shutdown" | undefined, at: number): EngineWrite | undefined {
    const { byTask, byHost } = this.table;
    if (byHost.get(run.host) !== run) return undefined;
    const held = holdsSlot(run.phase);
    const ranMs = held ? Math.max(0, at - run.segmentStart) : 0;
    clearRunTimers(run);
    byHost.delete(run.host);
    if (byTask.get(run.taskId) === run) byTask.delete(run.taskId);
    if (held) this.table.freeSlot(run.task.name, run.taskId);
    // A parked run ends when its worker crashes or gives its task back: it parks nothing any more.
    else this.parked.remove(run);
    this.pool.release(run.host);
    this.dispatcher.request();
    if (!held) return undefined;
    // If the database refuses the write, the outcome is kept and written later; the row
    // stays RUNNING meanwhile, and the task never runs twice in this process.
    return (u) => this.settlement.settleSafely(u, run, end, cause, ranMs);
  }

  /**
   * This node lost the task's claim: its lease ran out (the node was cut off or stalled) and
   * another node may run the task now. The worker is ended and the slot freed, and nothing is
   * written: every write about the run would be refused by its fence anyway.
   */
  abandon(id: string): boolean {
    this.fences?.release(id);
    const { byTask, byHost } = this.table;
    const run = byTask.get(id);
    if (!run) return false;
    const held = holdsSlot(run.phase);
    clearRunTimers(run);
    byTask.delete(id);
    this.parked.remove(run);
    if (byHost.get(run.host) === run) {
      byHost.delete(run.host);
      this.pool.terminate(run.host);
      this.pool.release(run.host);
    }
    if (held) this.table.freeSlot(run.task.name, id);
    this.dispatcher.request();
    return true;
  }
}
