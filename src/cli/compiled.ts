import { fileURLToPath } from "node:url";

/**
 * Inside a `bun build --compile` executable every bundled module reports the executable's
 * virtual path as its URL, and extra entrypoints live under the virtual root named after
 * their path below `src/` (the entrypoints of `bun run build` in package.json).
 */
export const isCompiled = import.meta.url.startsWith("file:///$bunfs/");

/** The hidden subcommand that turns the executable into a task process (`isolation = "process"`). */
export const TASK_PROCESS_COMMAND = "__task-process";

/**
 * How `kiln serve` starts a task process: the binary itself with the hidden subcommand, or Bun
 * on the source entrypoint. Either way the child holds the built-in tasks and the "kiln" module.
 */
export const SERVE_PROCESS_COMMAND: readonly string[] = isCompiled
  ? [process.execPath, TASK_PROCESS_COMMAND]
  : [process.execPath, fileURLToPath(new URL("../worker/process-bundled.ts", import.meta.url))];

/** The worker entrypoint `kiln serve` starts its workers from, in both modes. */
export const SERVE_WORKER_URL: string | URL = isCompiled
  ? "/$bunfs/root/worker/bundled.ts"
  : new URL("../worker/bundled.ts", import.meta.url);

/** The webhook delivery thread's entrypoint, in both modes. */
export const SERVE_WEBHOOK_WORKER_URL: string | URL = isCompiled
  ? "/$bunfs/root/webhooks/delivery-worker.ts"
  : new URL("../webhooks/delivery-worker.ts", import.meta.url);
