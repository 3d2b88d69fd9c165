import { dlopen, FFIType, type Pointer, read } from "bun:ffi";

/**
 * glibc, then musl (Alpine). Linux only: there flock and fcntl (POSIX) locks are separate and
 * never conflict, which the owner lock relies on. The BSDs and macOS may keep both in one lock
 * table, where an exclusive flock could make SQLite's own locks on the file fail.
 */
const LIBC_NAMES = ["libc.so.6", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1"];

/** flock(2)'s operations. */
const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;
/** EWOULDBLOCK: another open file description holds the lock. */
const EWOULDBLOCK = 11;

export type FlockResult = "locked" | "held-elsewhere" | { errno: number };

function withFlock<T>(use: (flock: (fd: number, operation: number) => number, errno: () => number) => T) {
  if (process.platform !== "linux") return undefined;
  for (const name of LIBC_NAMES) {
    let opened: ReturnType<typeof openLibrary>;
    try {
      opened = openLibrary(name);
    } catch {
      continue;
    }
    try {
      const { flock, errno } = opened.symbols;
      return use(
        (fd, operation) => flock(fd, operation),
        () => read.i32(errno() as Pointer),
      );
    } finally {
      opened.close();
    }
  }
  return undefined;
}

function openLibrary(name: string) {
  const library = dlopen(name, {
    flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
  return {
    symbols: { flock: library.symbols.flock, errno: library.symbols.__errno_location },
    close: () => library.close(),
  };
}

/**
 * Takes an exclusive flock(2) on the open file `fd`, without waiting. Undefined where there is
 * no C library to call, or not Linux. A flock belongs to the open file description: it
 * ends when that is closed, or when the process dies, however it dies.
 */
export function tryFlockExclusive(fd: number): FlockResult | undefined {
  return withFlock((flock, errno) => {
    if (flock(fd, LOCK_EX | LOCK_NB) === 0) return "locked";
    const code = errno();
    return code === EWOULDBLOCK ? "held-elsewhere" : { errno: code };
  });
}

/** Drops the flock on `fd` (closing the descriptor would too; this says so explicitly). */
export function unflock(fd: number): void {
  withFlock((flock) => flock(fd, LOCK_UN));
}
