import type { Static } from "@sinclair/typebox";
import { Elysia, t } from "elysia";
import type { EndedByStatus, TaskManager } from "../../engine/index.ts";
import { iso, workerStates } from "../presenters.ts";
import { TaskStatusSchema } from "../schemas.ts";

const HOUR_MINUTES = 60;

const EndedCounts = t.Object({
  finished: t.Integer(),
  failed: t.Integer(),
  stopped: t.Integer(),
});

const StatsQuery = t.Object({
  minutes: t.Optional(
    t.Integer({
      minimum: 1,
      maximum: HOUR_MINUTES,
      default: 30,
      description: "How many one-minute buckets of throughput to return (the current minute last)",
      error: "minutes must be an integer from 1 to 60",
    }),
  ),
});

export const StatsSchema = t.Object(
  {
    at: t.String({ format: "date-time" }),
    tasks: t.Record(TaskStatusSchema, t.Integer(), { description: "Tasks in the database by status" }),
    running: t.Integer(),
    queueDepth: t.Integer({ description: "Tasks queued for a slot or for their run time" }),
    concurrency: t.Integer(),
    workers: t.Object(
      {
        busy: t.Integer({ description: "Workers running a task (or ending one)" }),
        idle: t.Integer({ description: "Workers waiting for a task" }),
        parked: t.Integer({
          description: "Workers held by a paused task, which keeps its stack there until resumed (not busy)",
        }),
      },
      { description: "Worker threads and task processes by state" },
    ),
    lastHour: t.Composite([EndedCounts], { description: "Tasks that ended in the last 60 minutes" }),
    throughput: t.Array(t.Composite([t.Object({ start: t.String({ format: "date-time" }) }), EndedCounts]), {
      description: "Tasks that ended per minute, oldest first; the last bucket is the current minute",
    }),
  },
  { description: "What the dashboard's summary shows" },
);

export type StatsJson = Static<typeof StatsSchema>;
type Ended = Static<typeof EndedCounts>;

/** The engine's counts in the API's words: lower-case keys, ISO times. */
async function endedTasks(manager: TaskManager, now: number, minutes: number) {
  const counts = await manager.endedCounts(minutes, now);
  const words = (c: EndedByStatus): Ended => ({ finished: c.FINISHED, failed: c.FAILED, stopped: c.STOPPED });
  return {
    lastHour: words(counts.lastHour),
    throughput: counts.perMinute.map(({ start, counts }) => ({ start: iso(start), ...words(counts) })),
  };
}

/** GET /stats: counts, workers and recent throughput in one small JSON document. */
export function statsRoutes(manager: TaskManager) {
  return new Elysia({ tags: ["probes"] }).decorate("kiln", manager).get(
    "/stats",
    async ({ kiln, query }): Promise<StatsJson> => {
      const now = Date.now();
      const stats = kiln.stats();
      return {
        at: iso(now),
        tasks: await kiln.countByStatus(),
        running: stats.running,
        queueDepth: stats.queued,
        concurrency: stats.concurrency,
        workers: workerStates(stats),
        ...(await endedTasks(kiln, now, query.minutes ?? 30)),
      };
    },
    {
      query: StatsQuery,
      response: { 200: StatsSchema },
      detail: {
        summary: "Task counts by status, workers, queue depth and how many tasks ended per minute",
        description:
          "lastHour counts transitions into FINISHED, FAILED and STOPPED in the last 60 minutes (a task " +
          "restarted and finished again counts twice); throughput splits the last `minutes` of them by minute.",
      },
    },
  );
}
