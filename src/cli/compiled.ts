/**
 * Inside a `bun build --compile` executable every bundled module reports the executable's
 * virtual path as its URL, and extra entrypoints live under the virtual root named after
 * their path below `src/` (see scripts/build.ts).
 */
export const isCompiled = import.meta.url.startsWith("file:///$bunfs/");

/** The worker entrypoint `kiln serve` starts its workers from, in both modes. */
export const SERVE_WORKER_URL: string | URL = isCompiled
  ? "/$bunfs/root/worker/bundled.ts"
  : new URL("../worker/bundled.ts", import.meta.url);
