/**
 * The time and the timer schedules fire by. kiln uses the system's; a test passes its own to
 * decide what time it is and to fire what is due when it says so.
 */
export interface ScheduleClock {
  now(): number;
  /** Calls `fn` after `ms`; the returned value cancels it through `clearTimer`. */
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: ScheduleClock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => {
    const timer = setTimeout(fn, ms);
    // A schedule's timer alone does not keep the process alive (kiln serve's server does).
    timer.unref?.();
    return timer;
  },
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
