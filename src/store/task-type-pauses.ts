/**
 * Paused task names in both dialects: the record, and the SQL of each statement. A pause is one
 * row per name: pausing again replaces who asked and when, resuming deletes it.
 */
import type { Dialect, Row, Statement } from "./schedule-rows.ts";

export interface TaskTypePause {
  taskName: string;
  /** Who asked (the request's actor), or null when unknown. */
  pausedBy: string | null;
  /** Epoch ms. */
  pausedAt: number;
  /** Whether the running tasks of the name were asked to pause at their next checkpoint too. */
  pauseRunning: boolean;
}

export function taskTypePauseFromRow(row: Row): TaskTypePause {
  return {
    taskName: row.task_name as string,
    pausedBy: (row.paused_by as string | null) ?? null,
    pausedAt: Number(row.paused_at),
    pauseRunning: row.pause_running === true || row.pause_running === 1,
  };
}

export class TaskTypePauseSql {
  constructor(private readonly dialect: Dialect) {}

  upsert(pause: TaskTypePause): Statement {
    const p = (n: number) => this.dialect.param(n);
    return {
      sql:
        `INSERT INTO paused_task_types (task_name, paused_by, paused_at, pause_running) ` +
        `VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}) ON CONFLICT (task_name) DO UPDATE SET ` +
        "paused_by = excluded.paused_by, paused_at = excluded.paused_at, pause_running = excluded.pause_running " +
        "RETURNING *",
      params: [pause.taskName, pause.pausedBy, pause.pausedAt, this.dialect.bool(pause.pauseRunning)],
    };
  }

  delete(taskName: string): Statement {
    return {
      sql: `DELETE FROM paused_task_types WHERE task_name = ${this.dialect.param(1)} RETURNING task_name`,
      params: [taskName],
    };
  }

  list(): Statement {
    return { sql: "SELECT * FROM paused_task_types ORDER BY task_name", params: [] };
  }
}
