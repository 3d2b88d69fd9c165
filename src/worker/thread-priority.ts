import { dlopen, FFIType } from "bun:ffi";

const PRIO_PROCESS = 0;
/** glibc, then musl (Alpine): the names the C library goes by on Linux. */
const LIBC_NAMES = ["libc.so.6", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1"];

/**
 * Lowers the calling thread's CPU priority (its nice value) by `niceness`. On Linux,
 * setpriority(PRIO_PROCESS, 0, …) applies to the calling thread alone, not the whole process,
 * so a task worker that spins yields the cores to the thread answering the API and recording
 * state whenever that one has work: without it, a request waits for a scheduler slice behind
 * every busy worker. Returns false where it is not available (not Linux, no known C library).
 */
export function lowerThreadPriority(niceness: number): boolean {
  if (process.platform !== "linux" || niceness <= 0) return false;
  for (const name of LIBC_NAMES) {
    let libc: ReturnType<typeof open>;
    try {
      libc = open(name);
    } catch {
      continue;
    }
    try {
      const current = libc.symbols.getpriority(PRIO_PROCESS, 0);
      return libc.symbols.setpriority(PRIO_PROCESS, 0, Math.min(19, current + niceness)) === 0;
    } finally {
      libc.close();
    }
  }
  return false;
}

function open(name: string) {
  return dlopen(name, {
    getpriority: { args: [FFIType.i32, FFIType.u32], returns: FFIType.i32 },
    setpriority: { args: [FFIType.i32, FFIType.u32, FFIType.i32], returns: FFIType.i32 },
  });
}
