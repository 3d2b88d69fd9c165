import type { EventHub } from "../engine/events.ts";
import type { Logger } from "../engine/logger.ts";
import type { ClusterStore } from "../store/index.ts";

/** How long notified ids gather before one read: notifications come in bursts. */
const GATHER_MS = 20;
/**
 * History ids are handed out at insert and become visible at commit, so a row may appear after
 * one with a higher id: each read looks this far back, and rows already seen are skipped.
 */
const LOOK_BACK_IDS = 5_000;
/** Event ids remembered as seen. */
const SEEN_LIMIT = 20_000;

/**
 * What other nodes did, for this node's cluster-wide listeners (the event stream, waiters, the
 * counts): notified task ids are read back as history rows with each task's row, and announced.
 */
export class OtherNodesEvents {
  readonly #ids = new Set<string>();
  readonly #seen = new Set<number>();
  #highest = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #reading: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(
    private readonly cluster: ClusterStore,
    private readonly hub: EventHub,
    private readonly logger: Logger,
  ) {}

  heard(taskIds: readonly string[]): void {
    if (this.#stopped) return;
    for (const id of taskIds) if (typeof id === "string") this.#ids.add(id);
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#reading = this.#reading.then(() => this.#read());
    }, GATHER_MS);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  async #read(): Promise<void> {
    const ids = [...this.#ids];
    this.#ids.clear();
    if (ids.length === 0 || this.#stopped) return;
    try {
      const rows = await this.cluster.eventsOf(ids, Math.max(0, this.#highest - LOOK_BACK_IDS));
      for (const { event, task } of rows) {
        if (this.#seen.has(event.id)) continue;
        this.#remember(event.id);
        const fields = {
          at: event.at,
          task,
          action: event.action,
          reason: event.reason,
          actor: event.actor,
          source: event.source,
        };
        if (event.toStatus === null) this.hub.emitFromOtherNode({ type: "request", ...fields });
        else
          this.hub.emitFromOtherNode({
            type: "transition",
            ...fields,
            from: event.fromStatus,
            to: event.toStatus,
          });
      }
    } catch (error) {
      this.logger.debug("reading other nodes' history failed", { error: String(error) });
    }
  }

  #remember(id: number): void {
    this.#seen.add(id);
    if (id > this.#highest) this.#highest = id;
    if (this.#seen.size > SEEN_LIMIT) {
      const oldest = this.#seen.values().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
  }
}
