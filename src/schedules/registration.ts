/**
 * Start-up registration of the schedules task classes declare (`static schedules`): the
 * database is brought in step with the code. A declared schedule is inserted when new, and its
 * fields follow the declaration when it exists (its `nextRunAt` kept while its timing is the
 * same, so fire times missed while kiln was down are still found and the misfire policy applies;
 * recomputed when the timing changed). Its pause survives restarts: the declaration's `paused`
 * applies when it is first registered. A declared schedule no longer in any class is deleted;
 * schedules made through the API are left alone.
 */
import type { RegisteredTask } from "../engine/registry.ts";
import type { ScheduleRecord, TaskStore } from "../store/index.ts";
import { checkScheduleDeclarations, type DeclaredSchedule } from "./declarations.ts";
import { InvalidScheduleError } from "./errors.ts";
import { nextFireTime } from "./fire-times.ts";
import { fireTimeSpecOf, timingColumns } from "./stored.ts";

/** Every class's declarations, checked (a class's params checked against its schema). */
export function declaredSchedules(tasks: readonly RegisteredTask[]): DeclaredSchedule[] {
  const all: DeclaredSchedule[] = [];
  for (const task of tasks) {
    const declarations = (task.cls as { schedules?: unknown }).schedules;
    const check = checkScheduleDeclarations(task.name, declarations);
    if (!check.ok) {
      throw new InvalidScheduleError(
        check.errors.map((error) => ({ ...error, field: `${task.name}.${error.field}` })),
      );
    }
    for (const schedule of check.schedules) {
      try {
        schedule.params = task.parseParams(schedule.params);
      } catch (error) {
        throw new InvalidScheduleError([
          { field: `${task.name}.schedules (${schedule.id}).params`, message: (error as Error).message },
        ]);
      }
      all.push(schedule);
    }
  }
  return all;
}

const sameTiming = (a: ScheduleRecord, b: ReturnType<typeof timingColumns>) =>
  a.cron === b.cron && a.everyMs === b.everyMs && a.timezone === b.timezone;

/** Upserts the declared schedules and deletes the declared ones no class has any more. */
export async function registerDeclared(
  store: TaskStore,
  declared: readonly DeclaredSchedule[],
  now: number,
): Promise<{ added: string[]; updated: string[]; removed: string[] }> {
  const existing = new Map((await store.listSchedules()).map((schedule) => [schedule.id, schedule]));
  const report = { added: [] as string[], updated: [] as string[], removed: [] as string[] };
  const ids = new Set<string>();
  for (const schedule of declared) {
    ids.add(schedule.id);
    const timing = timingColumns(schedule.spec);
    const fields = {
      taskName: schedule.taskName,
      ...timing,
      params: schedule.params,
      priority: schedule.priority,
      tags: schedule.tags,
    };
    const stored = existing.get(schedule.id);
    if (!stored) {
      const next = nextFireTime(
        schedule.spec.cron !== undefined
          ? { cron: schedule.spec.cron, timezone: schedule.spec.timezone }
          : { everyMs: schedule.spec.everyMs, anchorMs: now },
        now,
      );
      await store.createSchedule({
        id: schedule.id,
        ...fields,
        paused: schedule.paused,
        source: "declared",
        nextRunAt: next,
        createdAt: now,
      });
      report.added.push(schedule.id);
      continue;
    }
    const nextRunAt = sameTiming(stored, timing)
      ? stored.nextRunAt
      : nextFireTime(fireTimeSpecOf({ ...stored, ...timing }), now);
    const { taskName: _name, ...changed } = fields;
    await store.updateSchedule(schedule.id, { ...changed, nextRunAt });
    report.updated.push(schedule.id);
  }
  for (const stored of existing.values()) {
    if (stored.source === "declared" && !ids.has(stored.id)) {
      await store.deleteSchedule(stored.id);
      report.removed.push(stored.id);
    }
  }
  return report;
}
