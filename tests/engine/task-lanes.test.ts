// A control request that arrives while the run's end is being committed waits for that commit and
// decides from it, on a store whose reads (like PostgreSQL's) see only what is committed.
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import {
  IllegalTransitionError,
  SqliteSyncStore,
  SqliteTaskStore,
  silentLogger,
  TaskManager,
  type TaskRecord,
  type TaskWrites,
} from "../../src/index.ts";
import { FIXTURE_TASKS, tempDir, untilStatus } from "../helpers.ts";

/**
 * Holds the commit of a transaction that writes a FINISHED row until `release()`, and reads a
 * task through a connection of its own, which sees only committed rows.
 */
class HeldEndStore extends SqliteTaskStore {
  #reader: SqliteSyncStore | undefined;
  #gate: Promise<void> | undefined;
  #release: () => void = () => {};
  #onHeld: () => void = () => {};

  /** Resolves once a transaction that finishes a task is held before its commit. */
  holdNextEnd(): Promise<void> {
    this.#gate = new Promise((resolve) => {
      this.#release = resolve;
    });
    return new Promise((resolve) => {
      this.#onHeld = resolve;
    });
  }

  release(): void {
    this.#gate = undefined;
    this.#release();
  }

  override transaction<T>(fn: (tx: TaskWrites) => Promise<T>): Promise<T> {
    return super.transaction(async (tx) => {
      let finishes = false;
      const watched: TaskWrites = {
        ...tx,
        transition: (id, from, patch, event) => {
          if (patch.status === "FINISHED") finishes = true;
          return tx.transition(id, from, patch, event);
        },
      };
      const result = await fn(watched);
      const gate = this.#gate;
      if (finishes && gate) {
        this.#onHeld();
        await gate;
      }
      return result;
    });
  }

  override getTask(id: string): Promise<TaskRecord | undefined> {
    this.#reader ??= new SqliteSyncStore({ path: this.location, backgroundCheckpoints: false });
    return Promise.resolve(this.#reader.getTask(id));
  }

  override async close(): Promise<void> {
    this.#reader?.close();
    await super.close();
  }
}

const dir = tempDir("kiln-lanes-");
let manager: TaskManager | undefined;
let store: HeldEndStore | undefined;
afterEach(async () => {
  store?.release();
  await manager?.shutdown();
  await store?.close();
  dir.remove();
});

test("a stop that arrives while the run's end is being committed is refused as ended, not lost", async () => {
  store = new HeldEndStore({ path: join(dir.path, "kiln.db") });
  manager = new TaskManager({ store, concurrency: 1, logger: silentLogger });
  await manager.load(FIXTURE_TASKS);
  await manager.start();
  const held = store.holdNextEnd();
  const { task } = await manager.create("echo", { value: 1 });
  await held;
  // The committed row still says RUNNING; the run itself is over.
  expect((await store.getTask(task.id))?.status).toBe("RUNNING");
  const stop = manager.stop(task.id).then(
    (result) => result,
    (error: unknown) => error,
  );
  await Bun.sleep(50);
  store.release();
  const outcome = await stop;
  expect(outcome).toBeInstanceOf(IllegalTransitionError);
  expect((outcome as Error).message).toMatch(/cannot stop a FINISHED task/);
  expect((await untilStatus(manager, task.id, ["FINISHED"])).result).toEqual({ value: 1 });
});
