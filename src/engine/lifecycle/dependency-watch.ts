import {
  type DependencyFailurePolicy,
  decideDependencies,
  waitingForChildrenReason,
} from "../../flow/index.ts";
import type { TaskRecord } from "../../store/index.ts";
import { isFinalStatus } from "../../task/index.ts";
import type { GuardedStore } from "../commit/storage-guard.ts";
import type { TaskLanes } from "../commit/task-lanes.ts";
import { TurnBatch } from "../commit/turn-batch.ts";
import { Unit } from "../commit/unit.ts";
import type { EventHub, ManagerEvent } from "../events.ts";
import type { Logger } from "../logger.ts";
import type { TaskDispatch } from "../queue/task-dispatch.ts";
import { ENGINE, type Transitions } from "./transitions.ts";

/** Held-back tasks looked at per sweep, at most. */
const SWEEP_BATCH = 500;

/**
 * Tasks held back PENDING (`awaiting`) until others end: the tasks of their `dependsOn`, or the
 * children of their `waitFor`. No dispatch takes such a task; this part decides when it may go.
 *
 * - When a task of this node reaches FINISHED, FAILED or STOPPED, the tasks waiting on it are
 *   examined, after that commit; so is a task that becomes PENDING while held back (created,
 *   suspended by its `waitFor`, restarted, resumed), since what it waits for may have ended first.
 * - Examining reads the awaited tasks (locked on PostgreSQL, so a task ending at the same moment
 *   is seen by one side or the other) and decides with `decideDependencies`: a wait updates the
 *   reason, "run" frees the task (queued here, claimed by any node), "fail"/"stop" end it, which in
 *   turn examines the tasks waiting on it.
 * - A sweep at start and every `sweepMs` looks for held-back tasks whose wait is over, in case a
 *   decision was lost (a crash between a task's end and its dependents' examination).
 */
export class DependencyWatch {
  #timer: ReturnType<typeof setInterval> | undefined;
  #unsubscribe: (() => void) | undefined;
  #stopped = false;
  /** The tasks that ended in one turn: their dependents are looked up with one read. */
  readonly #ended = new TurnBatch<string>((ids) => void this.#examineDependents(ids));
  /**
   * Whether a held-back task may exist. A kiln alone on its store sees every task it holds back
   * (it wrote it, or found it at a sweep), so while there is none it skips the read of an ended
   * task's dependents: on SQLite that read was a tenth of a no-op task's cost. Nodes that share a
   * database always read, as another node may hold a task back on one of theirs.
   */
  #mayHaveWaiting = true;
  /** Held-back tasks seen so far: a sweep that found none clears the flag only if none came meanwhile. */
  #heldBackSeen = 0;

  constructor(
    private readonly deps: {
      guard: GuardedStore;
      hub: EventHub;
      lanes: TaskLanes;
      transitions: Transitions;
      dispatcher: TaskDispatch;
      logger: Logger;
      /** Whether this kiln is the only one writing to its store (SQLite). */
      alone: boolean;
    },
  ) {}

  start(sweepMs: number): void {
    this.#unsubscribe = this.deps.hub.subscribe((event) => this.#heard(event));
    void this.sweep();
    this.#timer = setInterval(() => void this.sweep(), sweepMs);
    this.#timer.unref?.();
  }

  stop(): void {
    this.#stopped = true;
    this.#unsubscribe?.();
    if (this.#timer) clearInterval(this.#timer);
  }

  /** Examines every held-back task whose wait may be over. */
  async sweep(): Promise<void> {
    if (this.#stopped) return;
    try {
      const seen = this.#heldBackSeen;
      const ids = await this.deps.guard.awaitingToExamine(SWEEP_BATCH);
      for (const id of ids) await this.examine(id);
      if (this.deps.alone && ids.length === 0 && !(await this.deps.guard.hasAwaiting())) {
        if (this.#heldBackSeen === seen) this.#mayHaveWaiting = false;
      }
    } catch (error) {
      this.deps.logger.warn("looking for tasks whose dependencies ended failed; tried again later", {
        error: String(error),
      });
    }
  }

  #heard(event: ManagerEvent): void {
    if (event.type !== "transition" || this.#stopped) return;
    if (event.task.awaiting) {
      this.#heldBackSeen += 1;
      this.#mayHaveWaiting = true;
    }
    if (isFinalStatus(event.to)) {
      if (this.#mayHaveWaiting || !this.deps.alone) this.#ended.add(event.task.id);
    } else if (event.to === "PENDING" && event.task.awaiting) void this.examine(event.task.id);
  }

  async #examineDependents(ids: string[]): Promise<void> {
    if (this.#stopped) return;
    try {
      const dependents = await this.deps.guard.awaitingOn(ids);
      for (const dependent of dependents) await this.examine(dependent);
    } catch (error) {
      this.deps.logger.warn(
        `examining the tasks waiting on ${ids.length} ended task(s) failed; the sweep tries again`,
        {
          error: String(error),
        },
      );
    }
  }

  /** Decides again for one held-back task, in its lane and a transaction of its own. */
  async examine(id: string): Promise<void> {
    if (this.#stopped) return;
    try {
      await this.deps.lanes.run(id, () =>
        Unit.run(this.deps.guard, this.deps.hub, (unit) => this.decide(unit, id)),
      );
    } catch (error) {
      this.deps.logger.warn(`deciding whether task ${id} may start failed; the sweep tries again`, {
        error: String(error),
      });
    }
  }

  /** Decides inside `unit` (a create's transaction, or one of its own) for a held-back task. */
  async decide(unit: Unit, id: string, known?: TaskRecord): Promise<TaskRecord | undefined> {
    const task = known ?? (await unit.tx.getTask(id));
    if (task?.status !== "PENDING" || !task.awaiting) return task;
    const states = await unit.tx.awaitedStates(id, task.awaiting);
    const policy: DependencyFailurePolicy =
      task.awaiting === "children" ? "run" : ((task.dependencyPolicy ?? "fail") as DependencyFailurePolicy);
    const decision = decideDependencies(states, policy);
    const { transitions, dispatcher } = this.deps;
    if (decision.action === "wait") {
      const reason =
        task.awaiting === "children"
          ? waitingForChildrenReason(decision.waitingFor, states.length)
          : decision.reason;
      if (reason === task.statusReason) return task;
      return (await unit.tx.updateTask(id, { statusReason: reason })) ?? task;
    }
    if (decision.action === "run") {
      const reason = task.awaiting === "children" ? null : decision.reason;
      const freed = await transitions.awaitOver(unit, id, reason);
      if (freed) {
        unit.afterCommit(() => {
          dispatcher.enqueueIfSet(freed);
          dispatcher.request();
        });
      }
      return freed;
    }
    if (decision.action === "fail") return transitions.dependencyFailed(unit, id, decision.reason);
    return transitions.stopped(unit, id, decision.reason, ENGINE);
  }
}
