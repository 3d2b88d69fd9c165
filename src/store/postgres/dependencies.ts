import type { TaskStatus } from "../../task/index.ts";
import type { AwaitedState, AwaitKind, ChildrenSummary, TaskTreeReads } from "../dependency-records.ts";
import type { SqlValue } from "../task-rows.ts";
import type { Row } from "./client.ts";

type Run = (text: string, params: readonly SqlValue[]) => Promise<Row[]>;

const SQL = {
  clearWait: "DELETE FROM task_dependencies WHERE task_id = $1 AND kind = 'children'",
  add: `INSERT INTO task_dependencies (task_id, kind, depends_on_id)
    SELECT $1, $2, value FROM json_array_elements_text($3::json) AS value ON CONFLICT DO NOTHING`,
  /**
   * The awaited rows are locked FOR SHARE (a CTE, as FOR SHARE cannot take the nullable side of
   * an outer join): a task ending at the same time waits for this transaction, whose rows it
   * then sees, or has committed first, and is read here as ended. Either way one side sees both.
   */
  states: `WITH awaited AS (
      SELECT depends_on_id, ctid FROM task_dependencies WHERE task_id = $1 AND kind = $2
    ), locked AS (
      SELECT id, status FROM tasks WHERE id IN (SELECT depends_on_id FROM awaited) FOR SHARE
    )
    SELECT a.depends_on_id AS id, l.status FROM awaited a LEFT JOIN locked l ON l.id = a.depends_on_id
    ORDER BY a.ctid`,
  awaitingOn: `SELECT DISTINCT d.task_id AS id FROM task_dependencies d JOIN tasks t ON t.id = d.task_id
    WHERE d.depends_on_id IN (SELECT json_array_elements_text($1::json))
      AND t.status = 'PENDING' AND t.awaiting = d.kind`,
  existing: "SELECT id FROM tasks WHERE id IN (SELECT json_array_elements_text($1::json))",
  hasAwaiting: "SELECT EXISTS (SELECT 1 FROM tasks WHERE awaiting IS NOT NULL)::int AS found",
  sweep: `SELECT t.id FROM tasks t
    WHERE t.status = 'PENDING' AND t.awaiting IS NOT NULL AND (
      NOT EXISTS (SELECT 1 FROM task_dependencies d JOIN tasks x ON x.id = d.depends_on_id
        WHERE d.task_id = t.id AND d.kind = t.awaiting AND x.status IN ('PENDING', 'RUNNING', 'PAUSED'))
      OR (t.awaiting = 'dependencies' AND coalesce(t.dependency_policy, 'fail') <> 'run' AND EXISTS (
        SELECT 1 FROM task_dependencies d LEFT JOIN tasks x ON x.id = d.depends_on_id
        WHERE d.task_id = t.id AND d.kind = 'dependencies' AND (x.id IS NULL OR x.status IN ('FAILED', 'STOPPED')))))
    ORDER BY t.id LIMIT $1`,
  ids: "SELECT depends_on_id AS id FROM task_dependencies WHERE task_id = $1 AND kind = $2 ORDER BY ctid",
  childCounts: "SELECT status, count(*)::int AS n FROM tasks WHERE parent_id = $1 GROUP BY status",
  children: `SELECT id, task_name AS "taskName", status FROM tasks WHERE parent_id = $1 ORDER BY id LIMIT $2`,
};

/** The dependency statements of the PostgreSQL store, sent through an executor (pool or transaction). */
export class PostgresDependencies {
  constructor(private readonly run: Run) {}

  async addAwaited(taskId: string, kind: AwaitKind, ids: readonly string[]): Promise<void> {
    if (kind === "children") await this.run(SQL.clearWait, [taskId]);
    await this.run(SQL.add, [taskId, kind, JSON.stringify(ids)]);
  }

  async awaitedStates(taskId: string, kind: AwaitKind): Promise<AwaitedState[]> {
    const rows = await this.run(SQL.states, [taskId, kind]);
    return rows.map((row) => ({ id: String(row.id), status: (row.status ?? null) as TaskStatus | null }));
  }

  async awaitingOn(ids: readonly string[]): Promise<string[]> {
    return (await this.run(SQL.awaitingOn, [JSON.stringify(ids)])).map((row) => String(row.id));
  }

  async existingIds(ids: readonly string[]): Promise<string[]> {
    return (await this.run(SQL.existing, [JSON.stringify(ids)])).map((row) => String(row.id));
  }

  async hasAwaiting(): Promise<boolean> {
    const [row] = await this.run(SQL.hasAwaiting, []);
    return Number(row?.found) === 1;
  }

  async awaitingToExamine(limit: number): Promise<string[]> {
    return (await this.run(SQL.sweep, [limit])).map((row) => String(row.id));
  }

  async awaitedIds(taskId: string, kind: AwaitKind): Promise<string[]> {
    return (await this.run(SQL.ids, [taskId, kind])).map((row) => String(row.id));
  }

  async taskTree(taskId: string, childLimit: number): Promise<TaskTreeReads> {
    // Sent together: on one connection's pipeline they cost about one round trip.
    const [dependsOn, waitingFor, children] = await Promise.all([
      this.awaitedIds(taskId, "dependencies"),
      this.awaitedIds(taskId, "children"),
      this.childrenOf(taskId, childLimit),
    ]);
    return { dependsOn, waitingFor, children };
  }

  async childrenOf(parentId: string, limit: number): Promise<ChildrenSummary> {
    const counts: Partial<Record<TaskStatus, number>> = {};
    let total = 0;
    for (const row of await this.run(SQL.childCounts, [parentId])) {
      const n = Number(row.n);
      counts[row.status as TaskStatus] = n;
      total += n;
    }
    const items = (await this.run(SQL.children, [parentId, limit])).map((row) => ({
      id: String(row.id),
      taskName: String(row.taskName),
      status: row.status as TaskStatus,
    }));
    return { total, counts, items };
  }
}
