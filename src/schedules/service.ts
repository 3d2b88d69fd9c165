/**
 * Schedules at run time: the API the routes call (create, list, show, change, delete, pause,
 * resume, trigger), start-up registration of the declared ones, the timer that fires what is
 * due, and the release of tasks queued behind a previous one (overlap "queue").
 *
 * The timer is armed for the earliest `nextRunAt` of the schedules not paused, and armed again
 * after each firing and each change; nothing polls. A firing that fails (the database is
 * unavailable) is tried again after RETRY_MS.
 */

import type { GuardedStore } from "../engine/commit/storage-guard.ts";
import type { TaskCreation } from "../engine/creation/task-creation.ts";
import type { EventHub } from "../engine/events.ts";
import type { Logger } from "../engine/logger.ts";
import type { ControlOptions, ControlResult } from "../engine/manager-options.ts";
import type { TaskRegistry } from "../engine/registry.ts";
import type { ScheduleFireRecord, ScheduleRecord, TaskRecord } from "../store/index.ts";
import type { TaskStatus } from "../task/index.ts";
import type { ScheduleClock } from "./clock.ts";
import { ScheduleCounters } from "./counters.ts";
import { SCHEDULE_ID_PATTERN } from "./declarations.ts";
import { InvalidScheduleError, ScheduleExistsError, ScheduleNotFoundError } from "./errors.ts";
import { nextFireTime, nextFireTimes } from "./fire-times.ts";
import { type FiringOutcome, fireDue, fireNow } from "./firing.ts";
import { applySchedulePatch, type ScheduleSpecPatch } from "./patch.ts";
import { QueuedRelease } from "./queued-release.ts";
import { declaredSchedules, registerDeclared } from "./registration.ts";
import { checkScheduleSpec, type ScheduleSpecInput } from "./spec.ts";
import { fireTimeSpecOf, scheduleSpecOf, timingColumns } from "./stored.ts";

/** Wait before trying a failed firing again. */
export const RETRY_MS = 1_000;
/** setTimeout's longest delay; a later fire time is reached in steps. */
const MAX_TIMER_MS = 2_147_483_647;

export interface ScheduleInput extends ScheduleSpecInput {
  id?: string;
  name: string;
  params?: unknown;
  priority?: number;
  tags?: string[];
  paused?: boolean;
}

export interface SchedulePatchInput extends ScheduleSpecPatch {
  params?: unknown;
  priority?: number;
  tags?: string[];
  paused?: boolean;
}

/** A schedule with what its page shows. */
export interface ScheduleDetail {
  schedule: ScheduleRecord;
  /** The status of the task the latest fire created; null when none or gone. */
  lastTaskStatus: TaskStatus | null;
  /** The next five fire times from `nextRunAt` on (none while paused). */
  upcoming: number[];
  /** The latest fires, newest first. */
  fires: ScheduleFireRecord[];
}

export interface ScheduleServiceParts {
  guard: GuardedStore;
  hub: EventHub;
  creation: TaskCreation;
  registry: TaskRegistry;
  logger: Logger;
  clock: ScheduleClock;
  /** Resumes a task (a queued one whose predecessor ended), as the manager's `resume`. */
  resume(id: string, options: ControlOptions): Promise<ControlResult>;
  /**
   * Whether this node fires schedules now: on a database nodes share, only the leader does
   * (a firing is exactly once per fire time on any node; the leader alone saves the others the
   * work). Absent: always.
   */
  firesHere?: () => boolean;
  /** Whether other nodes share the database now (they may make schedules this node does not hear of). */
  sharedWithOtherNodes?: () => boolean;
}

/**
 * How often a node that does not fire (not the leader) looks again whether it does, and how often
 * the leader reads the schedules again (another node may have made one).
 */
export const LEADER_CHECK_MS = 1_000;

export class ScheduleService {
  #timer: unknown;
  #armedFor: number | null = null;
  /** The firing or arming under way; the next waits for it. */
  #chain: Promise<void> = Promise.resolve();
  #running = false;
  #unsubscribe: (() => void) | undefined;
  /** Fires, skips and misfires per schedule since this process started (for /metrics). */
  readonly counters = new ScheduleCounters();
  readonly #queued: QueuedRelease;

  constructor(private readonly parts: ScheduleServiceParts) {
    this.#queued = new QueuedRelease(parts);
  }

  /** When the timer is armed to fire next (epoch ms), or null: for tests and the logs. */
  get armedFor(): number | null {
    return this.#armedFor;
  }

  /**
   * Registers the declared schedules (before the manager takes work, so that a bad declaration
   * stops the start). Throws `InvalidScheduleError` for a bad declaration.
   */
  async register(): Promise<void> {
    const declared = declaredSchedules(this.parts.registry.all());
    const report = await registerDeclared(this.parts.guard, declared, this.parts.clock.now());
    if (report.added.length + report.removed.length > 0) {
      this.parts.logger.info("declared schedules registered", {
        added: report.added.length,
        kept: report.updated.length,
        removed: report.removed.length,
      });
    }
  }

  /**
   * Once the manager takes work: releases queued tasks whose predecessor ended while kiln was
   * down, and arms the timer.
   */
  async start(): Promise<void> {
    this.#running = true;
    this.#unsubscribe = this.parts.hub.subscribe((event) => this.#queued.observe(event));
    await this.#queued.release(undefined);
    await this.#rearm();
  }

  /** Looks at the schedules again now (this node's part in firing them changed). */
  wake(): void {
    if (this.#running) void this.#rearm();
  }

  /** Stops the timer and waits for a firing under way. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#unsubscribe?.();
    this.#disarm();
    await this.#chain;
  }

  // ── The API ────────────────────────────────────────────────────────────────────────────

  async create(input: ScheduleInput): Promise<ScheduleRecord> {
    const id = input.id ?? Bun.randomUUIDv7();
    if (!SCHEDULE_ID_PATTERN.test(id)) {
      throw new InvalidScheduleError([
        { field: "id", message: "must be 1-200 letters, digits or _ . : @ -" },
      ]);
    }
    const check = checkScheduleSpec(input);
    if (!check.ok) throw new InvalidScheduleError(check.errors);
    const params = this.#checkParams(input.name, input.params);
    if (await this.parts.guard.getSchedule(id)) throw new ScheduleExistsError(id);
    const now = this.parts.clock.now();
    const timing = timingColumns(check.spec);
    const spec =
      timing.cron !== null
        ? { cron: timing.cron, timezone: timing.timezone }
        : { everyMs: timing.everyMs as number, anchorMs: now };
    let created: ScheduleRecord;
    try {
      created = await this.parts.guard.createSchedule({
        id,
        taskName: input.name,
        ...timing,
        params,
        priority: input.priority ?? 0,
        tags: input.tags && input.tags.length > 0 ? [...input.tags] : null,
        paused: input.paused === true,
        source: "api",
        nextRunAt: nextFireTime(spec, now),
        createdAt: now,
      });
    } catch (error) {
      // Made by another request meanwhile: the primary key refused this one.
      if (!this.parts.guard.isFault(error) && (await this.parts.guard.getSchedule(id))) {
        throw new ScheduleExistsError(id);
      }
      throw error;
    }
    await this.#rearm();
    return created;
  }

  list(): Promise<ScheduleRecord[]> {
    return this.parts.guard.listSchedules();
  }

  /** Every schedule with its last task's status (null when it has none, or it was deleted). */
  async listWithLastStatus(): Promise<
    Array<{ schedule: ScheduleRecord; lastTaskStatus: TaskStatus | null }>
  > {
    const schedules = await this.list();
    // Read together: one round trip's wait on PostgreSQL's pool, not one per schedule.
    return Promise.all(
      schedules.map(async (schedule) => ({
        schedule,
        lastTaskStatus: schedule.lastTaskId
          ? ((await this.parts.guard.getTask(schedule.lastTaskId))?.status ?? null)
          : null,
      })),
    );
  }

  async require(id: string): Promise<ScheduleRecord> {
    const schedule = await this.parts.guard.getSchedule(id);
    if (!schedule) throw new ScheduleNotFoundError(id);
    return schedule;
  }

  async detail(id: string, fires = 10): Promise<ScheduleDetail> {
    const schedule = await this.require(id);
    const last = schedule.lastTaskId ? await this.parts.guard.getTask(schedule.lastTaskId) : undefined;
    const upcoming =
      schedule.paused || schedule.nextRunAt === null
        ? []
        : [schedule.nextRunAt, ...nextFireTimes(fireTimeSpecOf(schedule), schedule.nextRunAt, 4)];
    return {
      schedule,
      lastTaskStatus: last?.status ?? null,
      upcoming,
      fires: await this.parts.guard.listScheduleFires(id, fires),
    };
  }

  /**
   * Changes the fields given. A change of timing starts the schedule afresh from now (its next
   * fire time is the first after now); params are checked against the task's schema.
   */
  async update(id: string, patch: SchedulePatchInput): Promise<ScheduleRecord> {
    const stored = await this.require(id);
    const check = checkScheduleSpec(applySchedulePatch(scheduleSpecOf(stored), patch));
    if (!check.ok) throw new InvalidScheduleError(check.errors);
    const timing = timingColumns(check.spec);
    const timingChanged =
      timing.cron !== stored.cron || timing.everyMs !== stored.everyMs || timing.timezone !== stored.timezone;
    const now = this.parts.clock.now();
    const updated = await this.parts.guard.updateSchedule(id, {
      ...timing,
      ...(patch.params !== undefined ? { params: this.#checkParams(stored.taskName, patch.params) } : {}),
      ...(patch.priority !== undefined ? { priority: patch.priority } : {}),
      ...(patch.tags !== undefined ? { tags: patch.tags.length > 0 ? [...patch.tags] : null } : {}),
      ...(patch.paused !== undefined ? { paused: patch.paused } : {}),
      ...(timingChanged || (patch.paused === false && stored.paused)
        ? { nextRunAt: nextFireTime(fireTimeSpecOf({ ...stored, ...timing }), now) }
        : {}),
    });
    if (!updated) throw new ScheduleNotFoundError(id);
    await this.#rearm();
    return updated;
  }

  async delete(id: string): Promise<void> {
    if (!(await this.parts.guard.deleteSchedule(id))) throw new ScheduleNotFoundError(id);
    this.counters.forget(id);
    await this.#rearm();
  }

  pause(id: string): Promise<ScheduleRecord> {
    return this.update(id, { paused: true });
  }

  /** Resumes from now: fire times that passed while it was paused are not caught up. */
  resume(id: string): Promise<ScheduleRecord> {
    return this.update(id, { paused: false });
  }

  /** Fires once now, whatever its timing, overlap policy or pause; its next fire time stays. */
  async trigger(id: string): Promise<TaskRecord> {
    await this.require(id);
    const now = this.parts.clock.now();
    const outcome = await fireNow(this.parts, id, now);
    if (!outcome.schedule) throw new ScheduleNotFoundError(id);
    this.counters.record(id, outcome, now);
    const task = outcome.created[0];
    if (!task) {
      const [fire] = await this.parts.guard.listScheduleFires(id, 1);
      throw new InvalidScheduleError([
        {
          field: "name",
          message: fire?.skipReason ?? "the schedule fired no task (fired at this ms already)",
        },
      ]);
    }
    return task;
  }

  /** Fires every due schedule now (the timer's job; a test with its own clock calls it). */
  fireDue(): Promise<FiringOutcome[]> {
    const run = this.#chain.then(() => this.#fireAllDue());
    this.#chain = run.then(
      () => this.#arm(),
      () => this.#arm(RETRY_MS),
    );
    return run;
  }

  // ── Firing ─────────────────────────────────────────────────────────────────────────────

  #firesHere(): boolean {
    return this.parts.firesHere?.() ?? true;
  }

  #checkParams(name: string, params: unknown): unknown {
    // An unknown name is a 404 naming the known ones; params that do not fit, a 422.
    return this.parts.registry.require(name).parseParams(params);
  }

  async #fireAllDue(): Promise<FiringOutcome[]> {
    if (!this.#firesHere()) return [];
    const now = this.parts.clock.now();
    const due = (await this.parts.guard.listSchedules()).filter(
      (schedule) => !schedule.paused && schedule.nextRunAt !== null && schedule.nextRunAt <= now,
    );
    const outcomes: FiringOutcome[] = [];
    for (const schedule of due) {
      const outcome = await fireDue(this.parts, schedule.id, now);
      outcomes.push(outcome);
      this.counters.record(schedule.id, outcome, now);
      // A predecessor that ended while this firing was being committed announced its end before
      // the queued task was there to release: look again now that it is.
      if (outcome.created.some((task) => task.status === "PAUSED")) await this.#queued.release(undefined);
      if (outcome.missed > 0) {
        this.parts.logger.warn(`schedule ${schedule.id} missed fire times while kiln was down`, {
          missed: outcome.missed,
          policy: schedule.misfire,
          fired: outcome.created.length,
        });
      }
    }
    return outcomes;
  }

  /** Arms the timer again once what runs now is done (after a change); settles once armed. */
  #rearm(): Promise<void> {
    this.#chain = this.#chain.then(() => this.#arm());
    return this.#chain;
  }

  async #arm(retryMs?: number): Promise<void> {
    this.#disarm();
    if (!this.#running) return;
    let at: number | null;
    if (retryMs !== undefined) {
      at = this.parts.clock.now() + retryMs;
    } else {
      try {
        at = earliest(await this.parts.guard.listSchedules());
      } catch (error) {
        this.parts.logger.error("reading schedules failed; trying again", { error: String(error) });
        at = this.parts.clock.now() + RETRY_MS;
      }
    }
    // Not the leader: look again soon, as the leader may be gone by then (a due time is then
    // fired late, by its misfire policy, never twice).
    if (!this.#firesHere()) at = this.parts.clock.now() + LEADER_CHECK_MS;
    // On a database nodes share, a schedule made or changed on another node is only in the
    // database: the leader reads the schedules again at least this often.
    else if (this.parts.sharedWithOtherNodes?.())
      at = Math.min(at ?? Number.POSITIVE_INFINITY, this.parts.clock.now() + LEADER_CHECK_MS);
    if (at === null || !this.#running) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, at - this.parts.clock.now()));
    this.#armedFor = at;
    this.#timer = this.parts.clock.setTimer(() => {
      this.#timer = undefined;
      this.#armedFor = null;
      this.fireDue().catch((error: unknown) =>
        this.parts.logger.error("firing schedules failed; trying again", { error: String(error) }),
      );
    }, delay);
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.parts.clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#armedFor = null;
  }
}

/** The earliest next fire time of the schedules not paused; null when none has one. */
function earliest(schedules: readonly ScheduleRecord[]): number | null {
  let at: number | null = null;
  for (const schedule of schedules) {
    if (schedule.paused || schedule.nextRunAt === null) continue;
    if (at === null || schedule.nextRunAt < at) at = schedule.nextRunAt;
  }
  return at;
}
