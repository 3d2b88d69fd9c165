import { FFIType } from "bun:ffi";
import { withLibc } from "./libc.ts";

const PR_SET_PDEATHSIG = 1;
const SIGKILL = 9;

/**
 * Asks Linux to SIGKILL this task process the moment the kiln that spawned it dies, even by
 * SIGKILL. The IPC "disconnect" event covers a parent that dies too, but only once this
 * process's event loop runs, which a runaway synchronous loop never lets happen: without this,
 * such a task would outlive its memory cap's enforcer. Returns false where it is not available
 * (not Linux, no known C library); the disconnect handler still applies there.
 */
export function dieWithParent(parentPid: number): boolean {
  const done = withLibc(
    {
      prctl: {
        args: [FFIType.i32, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.u64],
        returns: FFIType.i32,
      },
      getppid: { args: [], returns: FFIType.i32 },
    },
    (libc) => {
      if (libc.prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) !== 0) return false;
      // The parent may have died before the request was made: nothing would deliver the signal.
      if (libc.getppid() !== parentPid) process.exit(1);
      return true;
    },
  );
  return done ?? false;
}
