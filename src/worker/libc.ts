import { dlopen, type FFIFunction } from "bun:ffi";

/** glibc, then musl (Alpine): the names the C library goes by on Linux. */
const LIBC_NAMES = ["libc.so.6", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1"];

/**
 * Calls `use` with the C library's `symbols` opened through bun:ffi, and closes it after.
 * Returns undefined where there is none to open (not Linux, or no known C library).
 */
export function withLibc<const S extends Record<string, FFIFunction>, T>(
  symbols: S,
  use: (libc: ReturnType<typeof dlopen<S>>["symbols"]) => T,
): T | undefined {
  if (process.platform !== "linux") return undefined;
  for (const name of LIBC_NAMES) {
    let library: ReturnType<typeof dlopen<S>>;
    try {
      library = dlopen(name, symbols);
    } catch {
      continue;
    }
    try {
      return use(library.symbols);
    } finally {
      library.close();
    }
  }
  return undefined;
}
