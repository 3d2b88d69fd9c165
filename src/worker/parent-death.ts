import { dlopen, FFIType } from "bun:ffi";

const PR_SET_PDEATHSIG = 1;
const SIGKILL = 9;
/** glibc, then musl (Alpine): the names the C library goes by on Linux. */
const LIBC_NAMES = ["libc.so.6", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1"];

/**
 * Asks Linux to SIGKILL this task process the moment the kiln that spawned it dies, even by
 * SIGKILL. The IPC "disconnect" event covers a parent that dies too, but only once this
 * process's event loop runs, which a runaway synchronous loop never lets happen: without this,
 * such a task would outlive its memory cap's enforcer. Returns false where it is not available
 * (not Linux, no known C library); the disconnect handler still applies there.
 */
export function dieWithParent(parentPid: number): boolean {
  if (process.platform !== "linux") return false;
  for (const name of LIBC_NAMES) {
    let libc: ReturnType<typeof open>;
    try {
      libc = open(name);
    } catch {
      continue;
    }
    try {
      if (libc.symbols.prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) !== 0) return false;
      // The parent may have died before the request was made: nothing would deliver the signal.
      if (libc.symbols.getppid() !== parentPid) process.exit(1);
      return true;
    } finally {
      libc.close();
    }
  }
  return false;
}

function open(name: string) {
  return dlopen(name, {
    prctl: {
      args: [FFIType.i32, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.u64],
      returns: FFIType.i32,
    },
    getppid: { args: [], returns: FFIType.i32 },
  });
}
