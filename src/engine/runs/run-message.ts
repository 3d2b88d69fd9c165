import type { TaskRecord } from "../../store/index.ts";
import type { ToWorker } from "../../worker/protocol.ts";
import { contextOf } from "../creation/request-context.ts";
import type { RegisteredTask } from "../registry.ts";
import { resolveMemoryLimitBytes } from "./memory-limit.ts";
import type { RunExecutorOptions } from "./run-executor.ts";

export type RunMessage = Extract<ToWorker, { type: "run" }>;

/** What tells a worker to run the task, from its RUNNING row as committed. */
export function runMessage(
  registered: RegisteredTask,
  started: TaskRecord,
  options: Pick<RunExecutorOptions, "memoryLimitMb" | "limits">,
): RunMessage {
  return {
    type: "run",
    taskId: started.id,
    name: registered.name,
    module: registered.module,
    params: started.params,
    state: started.checkpoint ?? undefined,
    attempt: started.attempt,
    checkpointIntervalMs: registered.checkpointIntervalMs,
    memoryLimitBytes: resolveMemoryLimitBytes(registered, options.memoryLimitMb),
    context: contextOf(started),
    parentId: started.parentId ?? undefined,
    limits: options.limits,
  };
}
