import { readdirSync, realpathSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type BaseTask,
  bindRuntime,
  type FileAccess,
  type LogLevel,
  type TaskOutcome,
  type TaskRuntime,
  TaskStopped,
} from "../../src/task/index.ts";

export interface ProgressReport {
  done: number;
  total: number | undefined;
  message: string | undefined;
}

/** The tests' temp dirs (makeTempDir) as the one file root, unless a test gives its own. */
export const TEMP_FILE_ACCESS: FileAccess = { roots: [realpathSync(tmpdir())], protectedPaths: [] };

/**
 * A `TaskRuntime` that records what a task reports. Checkpoint states are deep-copied, as
 * saving them to the database would, so a task that mutates a state after handing it over
 * is caught. `stopAtCheckpoint: n` makes the n-th checkpoint that carries a state throw
 * `TaskStopped`, after recording that state, as a stop requested at that moment would.
 */
export class TestRuntime implements TaskRuntime {
  readonly taskId = "test-task";
  readonly attempt = 1;
  readonly context = Object.freeze({});
  readonly parentId = undefined;
  readonly fileAccess: FileAccess;
  readonly states: unknown[] = [];
  readonly progressReports: ProgressReport[] = [];
  readonly logs: Array<{ level: LogLevel; message: string }> = [];
  readonly requests: Array<{ action: string; reason: string | undefined }> = [];
  checkpointCalls = 0;
  readonly #abort = new AbortController();
  #stopRequested = false;

  constructor(
    private readonly stopAtCheckpoint?: number,
    fileAccess: FileAccess = TEMP_FILE_ACCESS,
  ) {
    this.fileAccess = fileAccess;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get lastState(): unknown {
    return this.states.at(-1);
  }

  /** Asks for a stop as an operator would: the signal aborts and the next checkpoint throws. */
  requestStop(): void {
    this.#stopRequested = true;
    this.#abort.abort(new TaskStopped("test stop"));
  }

  async checkpoint(state: unknown): Promise<void> {
    this.checkpointCalls += 1;
    if (state !== undefined) {
      this.states.push(structuredClone(state));
      if (this.states.length === this.stopAtCheckpoint) this.requestStop();
    }
    if (this.#stopRequested) throw new TaskStopped("test stop");
  }

  progress(done: number, total: number | undefined, message: string | undefined): void {
    this.progressReports.push({ done, total, message });
  }

  log(level: LogLevel, message: string): void {
    this.logs.push({ level, message });
  }

  request(action: "pause" | "stop" | "restart", reason: string | undefined): void {
    this.requests.push({ action, reason });
  }

  spawn(): Promise<string[]> {
    return Promise.reject(new Error("the built-in tasks spawn nothing; this runtime has no engine"));
  }

  waitFor(): Promise<never> {
    return Promise.reject(new Error("the built-in tasks wait for no children; this runtime has no engine"));
  }
}

export interface RunOptions {
  /** The checkpoint state a previous run saved, as kiln hands it back on resume. */
  state?: unknown;
  stopAtCheckpoint?: number;
  /** Default: TEMP_FILE_ACCESS. */
  fileAccess?: FileAccess;
}

export interface Run<R> {
  outcome: TaskOutcome<R>;
  runtime: TestRuntime;
}

/** Binds a fresh runtime to `task` and starts `pre → run → post` the way a worker does. */
export function startTask<P, R, S>(
  task: BaseTask<P, R, S>,
  params: P,
  options: RunOptions = {},
): { runtime: TestRuntime; outcome: Promise<TaskOutcome<R>> } {
  const runtime = new TestRuntime(options.stopAtCheckpoint, options.fileAccess);
  task[bindRuntime](runtime, options.state as S | undefined);
  return { runtime, outcome: task.start(params) };
}

export async function runTask<P, R, S>(
  task: BaseTask<P, R, S>,
  params: P,
  options: RunOptions = {},
): Promise<Run<R>> {
  const { runtime, outcome } = startTask(task, params, options);
  return { outcome: await outcome, runtime };
}

/** The result of a run that must have finished; fails the test with the outcome otherwise. */
export function resultOf<R>(outcome: TaskOutcome<R>): R {
  if (outcome.status !== "finished") throw new Error(`expected a finished run, got ${describe(outcome)}`);
  return outcome.result;
}

export function errorOf(outcome: TaskOutcome<unknown>): Error {
  if (outcome.status !== "failed") throw new Error(`expected a failed run, got ${describe(outcome)}`);
  if (!(outcome.error instanceof Error)) throw new Error(`expected an Error, got ${String(outcome.error)}`);
  return outcome.error;
}

function describe(outcome: TaskOutcome<unknown>): string {
  return outcome.status === "failed" ? `failed: ${String(outcome.error)}` : outcome.status;
}

export async function makeTempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "kiln-tasks-"));
}

export async function removeTempDir(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}

/** Open file descriptors of this process, where the platform tells; undefined elsewhere. */
export function openFileCount(): number | undefined {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return undefined;
  }
}

/** Deterministic bytes that differ from chunk to chunk, so a misplaced chunk changes the CRC. */
export function patternBytes(length: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

export async function readBytes(path: string): Promise<Uint8Array> {
  return new Uint8Array(await readFile(path));
}
