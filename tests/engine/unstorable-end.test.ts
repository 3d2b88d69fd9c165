// The last line of defence behind the worker's checks: if writing a run's end throws anyway (a
// value the store cannot take, a bug), only that task fails; the commit it shares with other
// runs' ends, and the process, go on. Before, the error escaped the commit and ended the process.
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { SqliteSyncStore, SqliteTaskStore, silentLogger, TaskManager } from "../../src/index.ts";
import { FIXTURE_TASKS, tempDir, untilStatus } from "../helpers.ts";

/** Throws the way JSON.stringify does on a BigInt when the end of one chosen task is written. */
class PoisonedEndStore extends SqliteSyncStore {
  poisoned = new Set<string>();
  override transition(...args: Parameters<SqliteSyncStore["transition"]>) {
    const [id, , patch] = args;
    if (this.poisoned.has(id) && patch.status === "FINISHED") {
      throw new TypeError("JSON.stringify cannot serialize BigInt.");
    }
    return super.transition(...args);
  }
}

const dir = tempDir("kiln-unstorable-");
let manager: TaskManager | undefined;
let store: PoisonedEndStore | undefined;
afterEach(async () => {
  await manager?.shutdown();
  store?.close();
  dir.remove();
});

test("an end that cannot be written fails that task alone, as UnstorableOutcome", async () => {
  store = new PoisonedEndStore({ path: join(dir.path, "kiln.db") });
  manager = new TaskManager({ store: new SqliteTaskStore(store), concurrency: 2, logger: silentLogger });
  await manager.load(FIXTURE_TASKS);
  await manager.start();
  const bad = (await manager.create("echo", { value: "poisoned" }, { paused: true })).task;
  const good = (await manager.create("echo", { value: "fine" }, { paused: true })).task;
  store.poisoned.add(bad.id);
  await manager.resume(bad.id);
  await manager.resume(good.id);
  const [failed, finished] = await Promise.all([
    untilStatus(manager, bad.id, ["FAILED", "FINISHED"]),
    untilStatus(manager, good.id, ["FAILED", "FINISHED"]),
  ]);
  expect(failed.status).toBe("FAILED");
  expect(failed.error).toEqual({
    name: "UnstorableOutcome",
    message: "kiln could not store how this run ended: JSON.stringify cannot serialize BigInt.",
    retryable: false,
  });
  expect(finished.status).toBe("FINISHED");
  expect(finished.result).toEqual({ value: "fine" });
  // The engine goes on.
  const next = (await manager.create("echo", { value: 3 })).task;
  expect((await untilStatus(manager, next.id, ["FINISHED"])).status).toBe("FINISHED");
});
