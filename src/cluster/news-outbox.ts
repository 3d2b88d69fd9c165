import type { ManagerEvent } from "../engine/events.ts";
import type { Logger } from "../engine/logger.ts";
import type { ClusterStore, TelemetryBatch } from "../store/index.ts";
import type { DeletedTask } from "../store/store.ts";
import { type NodeNews, newsPayloads } from "./node-news.ts";

/**
 * What this node wrote in one event-loop turn, told to the other nodes in one notification (or
 * a few, when the ids do not fit one payload): the tasks whose history changed, progress ticks,
 * log lines and deletes, and whether tasks became ready. Nothing is sent while the node is alone.
 */
export class NewsOutbox {
  #history = new Set<string>();
  #progress = new Set<string>();
  #logs = new Set<string>();
  #deleted: DeletedTask[] = [];
  #ready = false;
  #flushScheduled = false;
  #closed = false;

  constructor(
    private readonly nodeId: string,
    private readonly cluster: ClusterStore,
    private readonly logger: Logger,
    /** Whether this node was alone at its last heartbeat: nobody to tell. */
    private readonly alone: () => boolean,
  ) {}

  /** A committed transition or request of this node. */
  observe(event: ManagerEvent): void {
    if (event.type !== "transition" && event.type !== "request") return;
    if (this.alone() || this.#closed) return;
    this.#history.add(event.task.id);
    if (event.type === "transition" && (event.to === "PENDING" || event.from === "RUNNING"))
      this.#ready = true;
    this.#scheduleFlush();
  }

  /** A tick of progress and log lines was written: other nodes' streams read them back. */
  telemetryWritten(batch: TelemetryBatch): void {
    if (this.alone() || this.#closed) return;
    for (const id of batch.progress.keys()) this.#progress.add(id);
    for (const line of batch.logs) this.#logs.add(line.taskId);
    this.#scheduleFlush();
  }

  /** Tasks this node deleted: other nodes' counts forget them too. */
  deleted(tasks: readonly DeletedTask[]): void {
    if (this.alone() || this.#closed || tasks.length === 0) return;
    this.#deleted.push(...tasks);
    this.#scheduleFlush();
  }

  /** Sends what is left; takes no more news after. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }

  /** Tells the other nodes that tasks are ready: those this node handed back at its stop. */
  async announceReady(): Promise<void> {
    const ready: NodeNews = { ready: true, history: [], progress: [], logs: [], deleted: [] };
    for (const payload of newsPayloads(this.nodeId, ready))
      await this.cluster.notify("kiln_events", payload).catch(() => undefined);
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => void this.flush());
  }

  async flush(): Promise<void> {
    this.#flushScheduled = false;
    const news: NodeNews = {
      ready: this.#ready,
      history: [...this.#history],
      progress: [...this.#progress],
      logs: [...this.#logs],
      deleted: this.#deleted.map((task) => [task.id, task.status, task.name]),
    };
    this.#history.clear();
    this.#progress.clear();
    this.#logs.clear();
    this.#deleted = [];
    this.#ready = false;
    try {
      // Usually one notification for all of a turn's news: one statement, not one per kind.
      for (const payload of newsPayloads(this.nodeId, news))
        await this.cluster.notify("kiln_events", payload);
    } catch (error) {
      // Only a hint: other nodes poll, and read history from the database.
      this.logger.debug("a notification could not be sent", { error: String(error) });
    }
  }
}
