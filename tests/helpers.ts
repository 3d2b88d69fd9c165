import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  silentLogger,
  TaskManager,
  type TaskManagerOptions,
  type TaskRecord,
  type TaskStatus,
} from "../src/index.ts";
import type { NewTask, NewTaskEvent } from "../src/store/index.ts";

export const FIXTURE_TASKS = new URL("./fixtures/tasks.ts", import.meta.url);

/** A fresh directory under the system temp dir, removed by the returned function. */
export function tempDir(prefix = "kiln-test-"): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface TestManager {
  manager: TaskManager;
  dbPath: string;
  dir: string;
  close: () => Promise<void>;
}

/** A started manager on a new SQLite file with the fixture tasks loaded. */
export async function startManager(
  options: Partial<TaskManagerOptions> = {},
  given?: { path: string; remove: () => void },
): Promise<TestManager> {
  const dir = given ?? tempDir();
  const dbPath = join(dir.path, "kiln.db");
  const db = options.store ? {} : { db: dbPath };
  let manager: TaskManager;
  try {
    manager = new TaskManager({ ...db, concurrency: 2, logger: silentLogger, ...options });
    await manager.load(FIXTURE_TASKS);
    await manager.start();
  } catch (error) {
    // A manager that did not start leaves no temp dir behind; a dir the caller gave stays theirs.
    if (!given) dir.remove();
    throw error;
  }
  return {
    manager,
    dbPath,
    dir: dir.path,
    close: async () => {
      await manager.shutdown();
      dir.remove();
    },
  };
}

export function untilStatus(
  manager: TaskManager,
  id: string,
  statuses: TaskStatus[],
  timeoutMs = 20_000,
): Promise<TaskRecord> {
  return manager.waitFor(id, (task) => statuses.includes(task.status), timeoutMs);
}

/** The statuses a task went through, from its history. */
export async function statusPath(manager: TaskManager, id: string): Promise<string[]> {
  return (await manager.events(id, { limit: 500 })).items
    .filter((event) => event.toStatus !== null && event.fromStatus !== event.toStatus)
    .map((event) => event.toStatus as string);
}

/** The history event a task's creation writes, by the actor "test". */
export const CREATED_EVENT: NewTaskEvent = {
  fromStatus: null,
  toStatus: "PENDING",
  action: "create",
  reason: null,
  actor: "test",
  source: null,
};

/** A task row as the store takes it: PENDING "demo" with `{ n: 1 }`, unless overridden. */
export function newTaskRow(overrides: Partial<NewTask> = {}): NewTask {
  return {
    id: Bun.randomUUIDv7(),
    taskName: "demo",
    status: "PENDING",
    params: { n: 1 },
    priority: 0,
    runAt: null,
    idempotencyKey: null,
    tags: null,
    ...overrides,
  };
}
