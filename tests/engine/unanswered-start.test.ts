import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import {
  SqliteTaskStore,
  type StorageFault,
  type TaskStore,
  type TaskWrites,
} from "../../src/store/index.ts";
import { startManager, statusPath, type TestManager, tempDir, untilStatus } from "../helpers.ts";

let env: TestManager | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

/** What a driver throws when the connection drops after the COMMIT was sent. */
class AnswerLost extends Error {}

/**
 * A SQLite store whose first transaction holding a start of `taskId` is committed, then rejects as
 * a lost connection would: the write is in the database, the engine is told it failed.
 */
function storeLosingOneAnswer(path: string, taskId: () => string | undefined) {
  const inner = new SqliteTaskStore({ path });
  let lost = 0;
  const store = new Proxy(inner, {
    get(target, key, receiver) {
      if (key === "transaction") {
        return async <T>(fn: (tx: TaskWrites) => Promise<T>): Promise<T> => {
          let startsTarget = false;
          const result = await target.transaction((tx) =>
            fn(
              new Proxy(tx, {
                get(txTarget, txKey, txReceiver) {
                  if (txKey !== "transition") return Reflect.get(txTarget, txKey, txReceiver);
                  return (...args: Parameters<TaskWrites["transition"]>) => {
                    if (args[0] === taskId() && args[3].action === "start") startsTarget = true;
                    return txTarget.transition(...args);
                  };
                },
              }),
            ),
          );
          if (startsTarget && lost === 0) {
            lost++;
            throw new AnswerLost("the connection was closed after the COMMIT was sent");
          }
          return result;
        };
      }
      if (key === "faultOf") {
        return (error: unknown): StorageFault | undefined =>
          error instanceof AnswerLost
            ? { cause: "unreachable", code: "ECONNRESET", description: "the connection was lost" }
            : target.faultOf(error);
      }
      const value = Reflect.get(target, key, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as TaskStore;
  return { store, lostAnswers: () => lost };
}

test("a start committed while its answer was lost is started again, not left RUNNING with no run", async () => {
  const dir = tempDir();
  let target: string | undefined;
  const { store, lostAnswers } = storeLosingOneAnswer(join(dir.path, "kiln.db"), () => target);
  env = await startManager({ store }, dir);
  const { manager } = env;
  const { task } = await manager.create("echo", { value: 1 }, { paused: true });
  target = task.id;
  await manager.resume(task.id);

  const done = await untilStatus(manager, task.id, ["FINISHED"], 20_000);
  expect(lostAnswers()).toBe(1);
  expect(done.result).toEqual({ value: 1 });
  expect(await statusPath(manager, task.id)).toEqual([
    "PAUSED",
    "PENDING",
    "RUNNING",
    "PENDING",
    "RUNNING",
    "FINISHED",
  ]);
  const requeue = (await manager.events(task.id)).items.find((event) => event.action === "requeue");
  expect(requeue?.reason).toContain("answer was lost");
});
