import { FFIType } from "bun:ffi";
import { withLibc } from "./libc.ts";

const PRIO_PROCESS = 0;

/** How much lower than the main thread task workers run (nice 10: about a tenth of its CPU share). */
export const TASK_WORKER_NICENESS = 10;

/**
 * Lowers the calling thread's CPU priority (its nice value) by `niceness`. On Linux,
 * setpriority(PRIO_PROCESS, 0, …) applies to the calling thread alone, not the whole process,
 * so a task worker that spins yields the cores to the thread answering the API and recording
 * state whenever that one has work: without it, a request waits for a scheduler slice behind
 * every busy worker. Returns false where it is not available (not Linux, no known C library).
 */
export function lowerThreadPriority(niceness: number): boolean {
  if (niceness <= 0) return false;
  const done = withLibc(
    {
      getpriority: { args: [FFIType.i32, FFIType.u32], returns: FFIType.i32 },
      setpriority: { args: [FFIType.i32, FFIType.u32, FFIType.i32], returns: FFIType.i32 },
    },
    (libc) => {
      const current = libc.getpriority(PRIO_PROCESS, 0);
      return libc.setpriority(PRIO_PROCESS, 0, Math.min(19, current + niceness)) === 0;
    },
  );
  return done ?? false;
}
