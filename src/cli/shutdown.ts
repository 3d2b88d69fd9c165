import type { Logger } from "../engine/index.ts";

const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15 } as const;
export type ShutdownSignal = keyof typeof SIGNAL_NUMBERS;

export interface ShutdownOptions {
  /** Everything a clean stop does: end the streams, drain HTTP, save the tasks, close the database. */
  stop: () => Promise<void>;
  /** How long `stop` may take before kiln stops waiting for it and exits with 1. */
  deadlineMs: number;
  logger: Logger;
  /** Fields of the "shutting down" line (the grace periods), so the log says how long to expect. */
  details?: Record<string, unknown>;
  exit?: (code: number) => void;
}

/**
 * The first SIGINT or SIGTERM runs `stop` and exits 0 when it is done (1 if it fails or passes
 * the deadline). A second signal exits at once with 128 + its number: the database holds every
 * committed change, and tasks still running are restored on the next start, as after a crash.
 */
export function exitOnSignals(options: ShutdownOptions): void {
  const onSignal = shutdownHandler(options);
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
}

/** What exitOnSignals does with each signal, apart from listening for it. */
export function shutdownHandler(options: ShutdownOptions): (signal: ShutdownSignal) => void {
  const { logger } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let first: ShutdownSignal | undefined;
  const onSignal = (signal: ShutdownSignal) => {
    if (first !== undefined) {
      logger.warn("second signal: exiting now; running tasks are restored on the next start", {
        signal,
        first,
      });
      exit(128 + SIGNAL_NUMBERS[signal]);
      return;
    }
    first = signal;
    logger.info("shutting down", { signal, ...options.details, exitNow: "send the signal again" });
    // Unref'd: it must not keep alive a process that has nothing else left to do.
    const watchdog = setTimeout(() => {
      logger.error("shutdown did not finish in time; exiting without waiting any longer", {
        signal,
        deadlineMs: options.deadlineMs,
      });
      exit(1);
    }, options.deadlineMs);
    watchdog.unref();
    options.stop().then(
      () => {
        clearTimeout(watchdog);
        logger.info("stopped", { signal });
        exit(0);
      },
      (error: unknown) => {
        clearTimeout(watchdog);
        logger.error("shutdown failed", { signal, error: String(error) });
        exit(1);
      },
    );
  };
  return onSignal;
}
