import type { Database } from "bun:sqlite";
import type { TaskStatus } from "../task/index.ts";
import type { AwaitedState, AwaitKind, ChildrenSummary, TaskTreeReads } from "./dependency-records.ts";

/**
 * Why a held-back task may be free to go: the sweep's condition (see `awaitingToExamine`). The
 * held-back tasks are read through their partial index and each one's awaited tasks by id (the
 * CROSS JOIN fixes that order): left to itself SQLite starts from the status index, which reads
 * every queued task, once per held-back task.
 */
export const SWEEP = `SELECT t.id FROM tasks t INDEXED BY tasks_awaiting
  WHERE t.awaiting IS NOT NULL AND t.status = 'PENDING' AND (
    NOT EXISTS (SELECT 1 FROM task_dependencies d CROSS JOIN tasks x ON x.id = d.depends_on_id
      WHERE d.task_id = t.id AND d.kind = t.awaiting AND x.status IN ('PENDING', 'RUNNING', 'PAUSED'))
    OR (t.awaiting = 'dependencies' AND coalesce(t.dependency_policy, 'fail') <> 'run' AND EXISTS (
      SELECT 1 FROM task_dependencies d LEFT JOIN tasks x ON x.id = d.depends_on_id
      WHERE d.task_id = t.id AND d.kind = 'dependencies' AND (x.id IS NULL OR x.status IN ('FAILED', 'STOPPED')))))
  ORDER BY t.id LIMIT ?`;

/**
 * The held-back tasks waiting on any of the ids (a JSON array). CROSS JOIN keeps SQLite from
 * starting at the PENDING tasks (by their status index), which read every queued task at each
 * end; from the ended ids it reads their dependents only.
 */
export const AWAITING_ON = `SELECT DISTINCT d.task_id AS id FROM task_dependencies d CROSS JOIN tasks t ON t.id = d.task_id
  WHERE d.depends_on_id IN (SELECT value FROM json_each(?)) AND t.status = 'PENDING' AND t.awaiting = d.kind`;

const noChildren = (): ChildrenSummary => ({ total: 0, counts: {}, items: [] });
/**
 * Columns `tree_children` and `tree_awaited`: 1 when the task whose id is the SQL expression `id`
 * spawned any task, and when it waits on any. `taskTree` and the store's row-with-probe read share it.
 */
export const treeProbeColumns = (id: string): string =>
  `EXISTS (SELECT 1 FROM tasks c WHERE c.parent_id = ${id}) AS tree_children,
   EXISTS (SELECT 1 FROM task_dependencies d WHERE d.task_id = ${id}) AS tree_awaited`;

/** The tree of a task that waits on nothing and spawned nothing. */
export const emptyTaskTree = (): TaskTreeReads => ({ dependsOn: [], waitingFor: [], children: noChildren() });

/** The dependency statements of the SQLite store (synchronous, on its connection). */
export class SqliteDependencies {
  constructor(private readonly sqlite: Database) {}

  addAwaited(taskId: string, kind: AwaitKind, ids: readonly string[]): void {
    if (kind === "children") {
      this.sqlite.query("DELETE FROM task_dependencies WHERE task_id = ? AND kind = 'children'").run(taskId);
    }
    this.sqlite
      .query(
        `INSERT OR IGNORE INTO task_dependencies (task_id, kind, depends_on_id)
         SELECT ?, ?, value FROM json_each(?)`,
      )
      .run(taskId, kind, JSON.stringify(ids));
  }

  awaitedStates(taskId: string, kind: AwaitKind): AwaitedState[] {
    return this.sqlite
      .query<AwaitedState, [string, string]>(
        `SELECT d.depends_on_id AS id, t.status AS status FROM task_dependencies d
         LEFT JOIN tasks t ON t.id = d.depends_on_id WHERE d.task_id = ? AND d.kind = ? ORDER BY d.rowid`,
      )
      .all(taskId, kind);
  }

  awaitingOn(ids: readonly string[]): string[] {
    return this.sqlite
      .query<{ id: string }, [string]>(AWAITING_ON)
      .all(JSON.stringify(ids))
      .map((row) => row.id);
  }

  existingIds(ids: readonly string[]): string[] {
    return this.sqlite
      .query<{ id: string }, [string]>("SELECT id FROM tasks WHERE id IN (SELECT value FROM json_each(?))")
      .all(JSON.stringify(ids))
      .map((row) => row.id);
  }

  hasAwaiting(): boolean {
    return (
      this.sqlite
        .query<{ found: number }, []>(
          "SELECT EXISTS (SELECT 1 FROM tasks INDEXED BY tasks_awaiting WHERE awaiting IS NOT NULL) AS found",
        )
        .get()?.found === 1
    );
  }

  awaitingToExamine(limit: number): string[] {
    return this.sqlite
      .query<{ id: string }, [number]>(SWEEP)
      .all(limit)
      .map((row) => row.id);
  }

  awaitedIds(taskId: string, kind: AwaitKind): string[] {
    // Ordered here rather than by SQL: the index holds a task's rows by the ids they name, and an
    // ORDER BY the rowid would open a sorter on every read, most of which find no row at all.
    const rows = this.sqlite
      .query<{ seq: number; id: string }, [string, string]>(
        "SELECT rowid AS seq, depends_on_id AS id FROM task_dependencies WHERE task_id = ? AND kind = ?",
      )
      .all(taskId, kind);
    if (rows.length > 1) rows.sort((a, b) => a.seq - b.seq);
    return rows.map((row) => row.id);
  }

  childrenOf(parentId: string, limit: number): ChildrenSummary {
    // Most tasks spawn nothing: one probe of the index answers them, without the two reads below
    // and the sorters their GROUP BY and ORDER BY open.
    const any = this.sqlite
      .query<{ found: number }, [string]>("SELECT EXISTS (SELECT 1 FROM tasks WHERE parent_id = ?) AS found")
      .get(parentId);
    return any?.found === 1 ? this.#children(parentId, limit) : noChildren();
  }

  taskTree(taskId: string, childLimit: number): TaskTreeReads {
    // One probe for the three reads: a task that waits on nothing and spawned nothing, most of
    // them, costs one statement instead of three.
    const probe = this.sqlite
      .query<{ tree_children: number; tree_awaited: number }, [string]>(`SELECT ${treeProbeColumns("?1")}`)
      .get(taskId);
    const awaited = probe?.tree_awaited === 1;
    return {
      dependsOn: awaited ? this.awaitedIds(taskId, "dependencies") : [],
      waitingFor: awaited ? this.awaitedIds(taskId, "children") : [],
      children: probe?.tree_children === 1 ? this.#children(taskId, childLimit) : noChildren(),
    };
  }

  #children(parentId: string, limit: number): ChildrenSummary {
    const counts: Partial<Record<TaskStatus, number>> = {};
    let total = 0;
    const rows = this.sqlite
      .query<{ status: TaskStatus; n: number }, [string]>(
        "SELECT status, count(*) AS n FROM tasks WHERE parent_id = ? GROUP BY status",
      )
      .all(parentId);
    for (const row of rows) {
      counts[row.status] = row.n;
      total += row.n;
    }
    const items = this.sqlite
      .query<{ id: string; taskName: string; status: TaskStatus }, [string, number]>(
        "SELECT id, task_name AS taskName, status FROM tasks WHERE parent_id = ? ORDER BY id LIMIT ?",
      )
      .all(parentId, limit);
    return { total, counts, items };
  }
}
