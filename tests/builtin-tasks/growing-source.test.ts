// A source file that grows while it is read (a log being appended to): the built-in file tasks
// read to its end, past the size they saw at the start, and their progress must stay within
// what progress() accepts (done never more than total), or the worker's runtime refuses it.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { appendFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ChecksumFileTask, CopyFileTask } from "../../src/builtin-tasks/index.ts";
import { bindRuntime, DEFAULT_VALUE_LIMITS } from "../../src/task/index.ts";
import type { FromWorker } from "../../src/worker/protocol.ts";
import { WorkerTaskRuntime } from "../../src/worker/runtime.ts";
import { makeTempDir, patternBytes, removeTempDir, TEMP_FILE_ACCESS } from "./harness.ts";

const CHUNK = 16 * 1024;

let dir: string;
let source: string;
beforeEach(async () => {
  dir = await makeTempDir();
  source = join(dir, "growing.log");
  await writeFile(source, patternBytes(4 * CHUNK));
});
afterEach(async () => {
  await removeTempDir(dir);
});

/** The worker's own runtime, checking every call as in a worker; the file grows at the first checkpoint. */
class GrowingSourceRuntime extends WorkerTaskRuntime {
  readonly sent: FromWorker[] = [];
  #grown = false;

  constructor() {
    const sent: FromWorker[] = [];
    super("growing", 1, new Int32Array(1), (message) => sent.push(message), 0, undefined, {
      memoryLimitBytes: undefined,
      yieldEveryMs: undefined,
      limits: DEFAULT_VALUE_LIMITS,
      context: {},
      parentId: undefined,
      fileAccess: TEMP_FILE_ACCESS,
    });
    this.sent = sent;
  }

  override checkpoint(state: unknown): Promise<void> {
    if (!this.#grown) {
      this.#grown = true;
      appendFileSync(source, patternBytes(3 * CHUNK, 9));
    }
    return super.checkpoint(state);
  }
}

test.each([
  [
    "copy-file",
    () => new CopyFileTask(),
    () => ({ source, destination: join(dir, "copy.log"), chunkBytes: CHUNK }),
  ],
  ["checksum-file", () => new ChecksumFileTask(), () => ({ path: source, chunkBytes: CHUNK })],
] as const)("%s reads a growing source to its end with progress it may report", async (_, make, params) => {
  const runtime = new GrowingSourceRuntime();
  const task = make();
  task[bindRuntime](runtime, undefined);
  const outcome = await task.start(params() as never);
  runtime.flushProgress();
  runtime.dispose();
  expect(outcome.status).toBe("finished");
  const last = runtime.sent.filter((message) => message.type === "progress").at(-1);
  expect(last).toMatchObject({ done: 7 * CHUNK, total: 7 * CHUNK });
});
