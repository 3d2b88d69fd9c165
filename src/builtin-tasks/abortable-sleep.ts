/**
 * Waits `ms`, or less when `signal` aborts. `Bun.sleep` cannot be cancelled, and a task
 * asked to stop must not wait out a delay of up to a minute before it reaches its next
 * checkpoint, where the stop takes effect.
 */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const wake = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    signal.addEventListener("abort", wake, { once: true });
  });
}
