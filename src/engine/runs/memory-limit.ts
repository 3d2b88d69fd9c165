import type { TaskError } from "../../task/index.ts";
import type { FromWorker } from "../../worker/protocol.ts";
import type { RegisteredTask } from "../registry.ts";

const MB = 1024 * 1024;

/** The manager's default cap, validated once at construction. */
export function checkMemoryLimitMb(mb: number | undefined): number | undefined {
  if (mb !== undefined && !(Number.isFinite(mb) && mb > 0)) {
    throw new Error("taskMemoryLimitMb must be a positive number");
  }
  return mb;
}

/** A run's cap in bytes: its class's own, else the manager's default, else none. */
export function resolveMemoryLimitBytes(
  task: RegisteredTask,
  defaultMb: number | undefined,
): number | undefined {
  const mb = task.memoryLimitMb ?? defaultMb;
  return mb === undefined ? undefined : Math.round(mb * MB);
}

/** The error of a run ended over its cap. Not retryable: the same input would do it again. */
export function memoryLimitError(report: Extract<FromWorker, { type: "memory" }>): TaskError {
  // Rounded up: a use just over the cap (160.3 MB of 160) must not read "160 MB > 160 MB".
  const used = Math.ceil(report.usedBytes / MB);
  const limit = Math.round(report.limitBytes / MB);
  const what = report.measured === "rss" ? "resident size of its process" : "JavaScript heap";
  return {
    name: "MemoryLimitExceeded",
    message: `memory limit exceeded: ${used} MB > ${limit} MB (${what})`,
    retryable: false,
  };
}
