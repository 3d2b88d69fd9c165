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

/** What one notification of another node names: tasks with new history, progress, log lines. */
export interface OtherNodesNews {
  history: readonly string[];
  progress: readonly string[];
  logs: readonly string[];
}

/** The ids already read of one table, with a look-back for rows that became visible late. */
class SeenIds {
  readonly #seen = new Set<number>();
  #highest = 0;

  /** Where the next read starts. */
  get from(): number {
    return Math.max(0, this.#highest - LOOK_BACK_IDS);
  }

  /** False when the id was read before. */
  fresh(id: number): boolean {
    if (this.#seen.has(id)) return false;
    this.#seen.add(id);
    if (id > this.#highest) this.#highest = id;
    if (this.#seen.size > SEEN_LIMIT) {
      const oldest = this.#seen.values().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    return true;
  }
}

const strings = (ids: readonly unknown[] | undefined) =>
  (ids ?? []).filter((id): id is string => typeof id === "string");

/**
 * What other nodes did, for this node's cluster-wide listeners (the event stream, waiters, the
 * counts): notified task ids are read back from the database (history rows with each task's row,
 * the latest progress, new log lines), and announced as this node's own events are.
 */
export class OtherNodesEvents {
  readonly #history = new Set<string>();
  readonly #progress = new Set<string>();
  readonly #logs = new Set<string>();
  readonly #events = new SeenIds();
  readonly #lines = new SeenIds();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #reading: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(
    private readonly cluster: ClusterStore,
    private readonly hub: EventHub,
    private readonly logger: Logger,
  ) {}

  heard(news: Partial<OtherNodesNews>): void {
    if (this.#stopped) return;
    for (const id of strings(news.history)) this.#history.add(id);
    for (const id of strings(news.progress)) this.#progress.add(id);
    for (const id of strings(news.logs)) this.#logs.add(id);
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
    if (this.#stopped) return;
    const history = [...this.#history];
    const progress = [...this.#progress];
    const logs = [...this.#logs];
    this.#history.clear();
    this.#progress.clear();
    this.#logs.clear();
    try {
      await this.#readHistory(history);
      await this.#readProgress(progress);
      await this.#readLogs(logs);
    } catch (error) {
      this.logger.debug("reading what other nodes did failed", { error: String(error) });
    }
  }

  async #readHistory(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    for (const { event, task } of await this.cluster.eventsOf(ids, this.#events.from)) {
      if (!this.#events.fresh(event.id)) continue;
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
  }

  async #readProgress(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    for (const { id, progress, at } of await this.cluster.progressOf(ids))
      this.hub.emitFromOtherNode({ type: "progress", at, taskId: id, progress });
  }

  async #readLogs(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    for (const line of await this.cluster.logsOf(ids, this.#lines.from)) {
      if (!this.#lines.fresh(line.id)) continue;
      this.hub.emitFromOtherNode({
        type: "log",
        at: line.at,
        taskId: line.taskId,
        level: line.level,
        message: line.message,
      });
    }
  }
}
