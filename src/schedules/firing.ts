/**
 * The firing step: what one due schedule creates, in one transaction.
 *
 * The transaction locks the schedule's row, decides the due fire times (misfire policy) and,
 * for each, the overlap policy; records each fire under the unique (schedule, fire time) key
 * (a conflict means it was fired already, by an earlier try or another node: nothing is done
 * for it); creates its task through the engine's creation path (params checked, create event,
 * dispatch once committed); and advances `nextRunAt`. It all commits or none of it does, so a
 * crash between the steps cannot double or lose a fire, and running the step twice, or on two
 * nodes at once, fires each time once. That makes it the leader's job on several nodes as is.
 */

import type { GuardedStore } from "../engine/commit/storage-guard.ts";
import { Unit } from "../engine/commit/unit.ts";
import type { TaskCreation } from "../engine/creation/task-creation.ts";
import type { EventHub } from "../engine/events.ts";
import type { ScheduleRecord, TaskRecord } from "../store/index.ts";
import { decideMisfire } from "./misfire.ts";
import { decideOverlap } from "./overlap.ts";
import { misfireSpecOf } from "./stored.ts";

/** What a firing did. */
export interface FiringOutcome {
  /** Tasks created, oldest fire time first. */
  created: TaskRecord[];
  /** Fire times recorded as skipped (overlap "skip", or a task that could not be created). */
  skipped: number;
  /** Due times the misfire policy dropped. */
  missed: number;
  /** The schedule as stored afterwards; undefined when it is gone. */
  schedule: ScheduleRecord | undefined;
}

export interface FiringParts {
  guard: GuardedStore;
  hub: EventHub;
  creation: TaskCreation;
}

const iso = (time: number) => new Date(time).toISOString();

/** Fires what is due of one schedule at `now`; nothing when it is paused or not due. */
export function fireDue(parts: FiringParts, id: string, now: number): Promise<FiringOutcome> {
  return Unit.run(parts.guard, parts.hub, async (unit) => {
    const outcome: FiringOutcome = { created: [], skipped: 0, missed: 0, schedule: undefined };
    const schedule = await unit.tx.getSchedule(id, { lock: true });
    outcome.schedule = schedule;
    if (!schedule || schedule.paused || schedule.nextRunAt === null || schedule.nextRunAt > now) {
      return outcome;
    }
    const decision = decideMisfire(misfireSpecOf(schedule), schedule.nextRunAt, now);
    outcome.missed = decision.skipped;
    let previous = schedule.lastTaskId === null ? undefined : await unit.tx.getTask(schedule.lastTaskId);
    let last = { lastRunAt: schedule.lastRunAt, lastTaskId: schedule.lastTaskId };
    for (const fireTime of decision.fires) {
      const created = await fireOnce(parts, unit, schedule, fireTime, now, previous, outcome);
      if (created) {
        previous = created;
        last = { lastRunAt: fireTime, lastTaskId: created.id };
      }
    }
    outcome.schedule = await unit.tx.updateSchedule(id, { nextRunAt: decision.nextRunAt, ...last });
    return outcome;
  });
}

/**
 * Fires a schedule once at `now`, whatever its next fire time, overlap policy or pause (an
 * operator's "run now"); `nextRunAt` stays as it is.
 */
export function fireNow(parts: FiringParts, id: string, now: number): Promise<FiringOutcome> {
  return Unit.run(parts.guard, parts.hub, async (unit) => {
    const outcome: FiringOutcome = { created: [], skipped: 0, missed: 0, schedule: undefined };
    const schedule = await unit.tx.getSchedule(id, { lock: true });
    outcome.schedule = schedule;
    if (!schedule) return outcome;
    const created = await fireOnce(
      parts,
      unit,
      { ...schedule, overlap: "allow" },
      now,
      now,
      undefined,
      outcome,
    );
    if (created) {
      outcome.schedule = await unit.tx.updateSchedule(id, { lastRunAt: now, lastTaskId: created.id });
    }
    return outcome;
  });
}

/** One fire time: recorded once, and its task created (or the skip recorded). */
async function fireOnce(
  parts: FiringParts,
  unit: Unit,
  schedule: ScheduleRecord,
  fireTime: number,
  now: number,
  previous: TaskRecord | undefined,
  outcome: FiringOutcome,
): Promise<TaskRecord | undefined> {
  const overlap = decideOverlap(
    schedule.overlap,
    previous ? { id: previous.id, status: previous.status } : null,
  );
  const fire = { scheduleId: schedule.id, fireTime, recordedAt: now };
  if (overlap.action === "skip") {
    const recorded = await unit.tx.recordScheduleFire({
      ...fire,
      taskId: null,
      skipReason: overlap.reason,
      waitsFor: null,
    });
    if (recorded) outcome.skipped++;
    return undefined;
  }
  const taskId = Bun.randomUUIDv7();
  const waitsFor = overlap.action === "queue" ? overlap.after : null;
  const reason =
    `fired by schedule ${schedule.id} for ${iso(fireTime)}` +
    (waitsFor ? `; queued (overlap "queue"): waits for task ${waitsFor}` : "");
  try {
    const task = await unit.attempt(async (part) => {
      // Recorded first: a conflict says this time was fired already, and nothing is created.
      if (!(await part.tx.recordScheduleFire({ ...fire, taskId, skipReason: null, waitsFor }))) {
        return undefined;
      }
      return parts.creation.createForSchedule(
        part,
        { taskId, scheduleId: schedule.id, fireTime, reason },
        schedule.taskName,
        schedule.params,
        {
          priority: schedule.priority,
          ...(schedule.tags ? { tags: schedule.tags } : {}),
          paused: waitsFor !== null,
          actor: "kiln",
        },
      );
    });
    if (task) outcome.created.push(task);
    return task;
  } catch (error) {
    if (unit.passOn(error)) throw error;
    // The task cannot be made (its name is no longer registered, its params no longer fit the
    // schema): its part is undone, the fire recorded as skipped with why, and the schedule goes on.
    const message = error instanceof Error ? error.message : String(error);
    const recorded = await unit.tx.recordScheduleFire({
      ...fire,
      taskId: null,
      skipReason: `not created: ${message}`,
      waitsFor: null,
    });
    if (recorded) outcome.skipped++;
    return undefined;
  }
}
