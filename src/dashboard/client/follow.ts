import type { Page } from "./types.ts";

export interface Follower {
  /** Fetch what is new; during a fetch, one more round is queued instead. */
  poke: () => void;
  stop: () => void;
}

/**
 * Reads an append-only list (a task's history or logs) page by page after the last id seen.
 * The event stream says *that* something was added; this fetches *what*, by id, so nothing is
 * shown twice or skipped however the two interleave.
 */
export function createFollower<T extends { id: number }>(
  fetchPage: (after: number | undefined) => Promise<Page<T, number>>,
  onItems: (items: T[]) => void,
  onError: (error: unknown) => void,
): Follower {
  let after: number | undefined;
  let running = false;
  let again = false;
  let stopped = false;

  const drain = async () => {
    for (;;) {
      const page = await fetchPage(after);
      if (stopped) return;
      const last = page.items.at(-1);
      if (last) {
        after = last.id;
        onItems(page.items);
      }
      if (page.nextCursor === null) return;
    }
  };

  const poke = async () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await drain();
      } while (again && !stopped);
    } catch (error) {
      if (!stopped) onError(error);
    } finally {
      running = false;
    }
  };

  return {
    poke: () => void poke(),
    stop: () => {
      stopped = true;
    },
  };
}
