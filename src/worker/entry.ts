import {
  bindRuntime,
  coerceError,
  type FileAccess,
  isTaskClass,
  NO_FILE_ACCESS,
  type TaskClass,
  type TaskOutcome,
  TaskValueError,
  type ValueLimits,
} from "../task/index.ts";
import { LIMIT_FLAGS, toJsonText } from "../task/json-value.ts";
import { fromMainPort, toMainPort } from "./port-text.ts";
import type { FromWorker, ToWorker } from "./protocol.ts";
import { WorkerTaskRuntime } from "./runtime.ts";
import { lowerThreadPriority, TASK_WORKER_NICENESS } from "./thread-priority.ts";

declare const self: Worker;

type RunMessage = Extract<ToWorker, { type: "run" }>;

/** How a task host talks to the engine: a worker's message port, or a child process's IPC. */
export interface HostChannel {
  post(message: FromWorker): void;
  listen(handler: (message: ToWorker) => void): void;
  /** The control word, when the host owns it (a task process); a worker gets it in `init`. */
  control: Int32Array | undefined;
  /** See RuntimeOptions.yieldEveryMs. */
  yieldEveryMs: number | undefined;
}

/**
 * The message that reports a run's end. The result is turned into JSON text here, where the
 * task made it: one JSON cannot hold, or one over the limit, fails the task instead. So does a
 * run that finished after a checkpoint state was refused (the task caught the error and went on).
 */
function endMessage(
  taskId: string,
  outcome: TaskOutcome<unknown>,
  runtime: WorkerTaskRuntime,
  limits: ValueLimits,
): FromWorker {
  // Suspended by waitFor: whatever the task did after (caught the signal, returned, threw), the
  // run ends waiting, saved at its last checkpoint state.
  if (runtime.suspended) {
    try {
      return { type: "suspended", taskId, stateJson: runtime.latestStateJson() };
    } catch (thrown) {
      return { type: "failed", taskId, error: coerceError(thrown) };
    }
  }
  switch (outcome.status) {
    case "finished": {
      if (runtime.refused) return { type: "failed", taskId, error: coerceError(runtime.refused) };
      if (outcome.result === undefined) return { type: "finished", taskId, resultJson: undefined };
      try {
        const resultJson = toJsonText(outcome.result, {
          what: "result",
          maxBytes: limits.maxResultBytes,
          flag: LIMIT_FLAGS.maxResultBytes,
        });
        return { type: "finished", taskId, resultJson };
      } catch (thrown) {
        if (!(thrown instanceof TaskValueError)) throw thrown;
        const name = thrown.tooLarge ? "ResultTooLarge" : "ResultNotSerialisable";
        return { type: "failed", taskId, error: { name, message: thrown.message, retryable: false } };
      }
    }
    case "failed":
      return { type: "failed", taskId, error: coerceError(outcome.error) };
    case "stopped":
      return { type: "stopped", taskId, reason: outcome.reason };
    case "released":
      return { type: "released", taskId };
    case "suspended":
      // Only the runtime suspends a run; a task that throws TaskSuspended itself has failed.
      return {
        type: "failed",
        taskId,
        error: { name: "TaskSuspended", message: "TaskSuspended thrown outside waitFor", retryable: false },
      };
  }
}

/**
 * Turns the current thread into a kiln worker. `preloaded` are task classes bundled with
 * the worker itself (the built-in tasks of a compiled binary); every other class is found
 * by importing the module the main thread names in the `run` message.
 */
export function startWorker(preloaded: readonly TaskClass[] = []): void {
  lowerThreadPriority(TASK_WORKER_NICENESS);
  startTaskHost(
    {
      post: (message) => self.postMessage(toMainPort(message)),
      listen: (handler) => {
        self.onmessage = (event: MessageEvent<ToWorker | string>) => handler(fromMainPort(event.data));
      },
      control: undefined,
      yieldEveryMs: undefined,
    },
    preloaded,
  );
}

/** Runs the tasks the engine assigns over `channel`, one at a time, speaking the worker protocol. */
export function startTaskHost(channel: HostChannel, preloaded: readonly TaskClass[]): void {
  const post = (message: FromWorker) => channel.post(message);
  const builtIn = new Map(preloaded.map((cls) => [cls.taskName, cls]));
  const modules = new Map<string, Promise<Record<string, unknown>>>();
  let control: Int32Array | undefined = channel.control;
  let fileAccess: FileAccess = NO_FILE_ACCESS;
  let current: WorkerTaskRuntime | undefined;

  async function findClass(name: string, module: string | undefined): Promise<TaskClass> {
    if (module === undefined) {
      const cls = builtIn.get(name);
      if (!cls) throw new Error(`no built-in task named "${name}" in this worker`);
      return cls;
    }
    let loading = modules.get(module);
    if (!loading) {
      loading = import(module) as Promise<Record<string, unknown>>;
      modules.set(module, loading);
    }
    const exports = await loading;
    for (const value of Object.values(exports)) {
      if (isTaskClass(value) && value.taskName === name) return value;
    }
    throw new Error(`module ${module} exports no task class named "${name}"`);
  }

  async function run(message: RunMessage): Promise<void> {
    if (!control) throw new Error("worker received a task before init");
    const runtime = new WorkerTaskRuntime(
      message.taskId,
      message.attempt,
      control,
      post,
      message.checkpointIntervalMs,
      message.state ?? undefined,
      {
        memoryLimitBytes: message.memoryLimitBytes,
        yieldEveryMs: channel.yieldEveryMs,
        context: message.context,
        parentId: message.parentId,
        limits: message.limits,
        fileAccess,
      },
    );
    current = runtime;
    let reply: FromWorker;
    try {
      const TaskType = await findClass(message.name, message.module);
      // The registry checked the class is concrete; TypeScript cannot see that through the union type.
      const task = new (TaskType as unknown as new () => InstanceType<TaskClass>)();
      task[bindRuntime](runtime, (message.state ?? undefined) as never);
      const outcome = await task.start(message.params as never);
      reply = endMessage(message.taskId, outcome, runtime, message.limits);
    } catch (thrown) {
      reply = { type: "failed", taskId: message.taskId, error: coerceError(thrown) };
    }
    runtime.flushProgress();
    runtime.dispose();
    current = undefined;
    try {
      post(reply);
    } catch (thrown) {
      // Every field is text or a number by now; this is a channel that broke, reported as a failure.
      post({
        type: "failed",
        taskId: message.taskId,
        error: {
          name: "ResultNotSerialisable",
          message: `the run's end cannot be sent: ${coerceError(thrown).message}`,
          retryable: false,
        },
      });
    }
  }

  channel.listen((message) => {
    switch (message.type) {
      case "init":
        if (message.control) control = new Int32Array(message.control);
        fileAccess = message.fileAccess;
        post({ type: "ready" });
        return;
      case "control":
        if (control) Atomics.store(control, 0, message.value);
        return;
      case "run":
        void run(message);
        return;
      case "resume":
        current?.resume();
        return;
      case "stop":
        current?.stop(message.reason);
        return;
      case "release":
        current?.release();
        return;
      case "spawned":
      case "spawn-refused":
        if (current?.taskId === message.taskId) current.settleSpawn(message);
        return;
      case "wait-over":
      case "wait-refused":
      case "wait-suspend":
        if (current?.taskId === message.taskId) current.settleWait(message);
        return;
      default: {
        const unknown: never = message;
        throw new Error(`unknown message ${JSON.stringify(unknown)}`);
      }
    }
  });
}
