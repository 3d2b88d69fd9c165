import type { FileAccess, TaskIsolation } from "../../task/index.ts";
import { Control, type ControlValue, type FromWorker, type ToWorker } from "../../worker/protocol.ts";
import { ProcessSlot } from "./process-slot.ts";
import type { TaskSlot } from "./slot.ts";

/** One Bun Worker and its control word. A slot runs at most one task at a time. */
export class WorkerSlot implements TaskSlot {
  readonly kind = "worker";
  readonly control: Int32Array;
  lastError: string | undefined;
  terminating = false;
  exited = false;
  readonly closed: Promise<void>;

  constructor(
    readonly id: number,
    readonly worker: Worker,
    /** Serves one run and is ended after it (`isolation = "fresh"`), never pooled. */
    readonly fresh = false,
  ) {
    this.control = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
    this.closed = new Promise((resolve) => worker.addEventListener("close", () => resolve(), { once: true }));
  }

  post(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  setControl(value: ControlValue): void {
    Atomics.store(this.control, 0, value);
  }

  end(): void {
    this.worker.terminate();
  }
}

export interface PoolHooks {
  onMessage(slot: TaskSlot, message: FromWorker): void;
  /**
   * The slot ended without kiln asking (uncaught error, `process.exit`, a signal). `exitCode`
   * is null when a signal ended a task process; `signal` names it.
   */
  onCrash(slot: TaskSlot, exitCode: number | null, signal?: string | null): void;
}

/**
 * Bun Workers reused across tasks. Spawning costs milliseconds, so workers are kept idle
 * between tasks (up to `maxIdle`) rather than spawned per task. A task process, and a fresh
 * worker (`isolation = "fresh"`), serves one run and is ended with it: its memory goes back to
 * the system, and nothing the run left in it reaches another task.
 */
export class WorkerPool {
  readonly #idle: WorkerSlot[] = [];
  readonly #all = new Set<TaskSlot>();
  /** Ended by kiln but not gone yet: `close()` waits for these too. */
  readonly #ending = new Set<TaskSlot>();
  #nextId = 1;

  constructor(
    private readonly workerUrl: string | URL,
    private readonly hooks: PoolHooks,
    private readonly maxIdle: number,
    /** The command that starts a task process (see `TaskManagerOptions.processCommand`). */
    private readonly processCommand: readonly string[],
    /** Sent to every worker and task process in its `init` message. */
    private readonly fileAccess: FileAccess,
  ) {}

  /** Workers alive: idle, running a task, or holding a paused one. */
  get size(): number {
    return this.#all.size;
  }

  get idleCount(): number {
    return this.#idle.length;
  }

  /** Pre-spawns workers so the first tasks do not pay for it. */
  warm(count: number): void {
    while (this.#idle.length < Math.min(count, this.maxIdle)) this.#idle.push(this.#spawn());
  }

  acquire(isolation: TaskIsolation = "worker"): TaskSlot {
    if (isolation === "process") return this.#spawnProcess();
    if (isolation === "fresh") return this.#spawn(true);
    return this.#idle.pop() ?? this.#spawn();
  }

  /**
   * Returns a slot whose task has ended; beyond `maxIdle` idle workers it is ended instead, and
   * so is a task process or a fresh worker, which serve one run.
   */
  release(slot: TaskSlot): void {
    if (slot.exited || slot.terminating) return;
    if (!(slot instanceof WorkerSlot) || slot.fresh || this.#idle.length >= this.maxIdle) {
      this.terminate(slot);
      return;
    }
    slot.setControl(Control.NONE);
    this.#idle.push(slot);
  }

  /** Ends a slot at once, whatever it is doing (a task stuck in a CPU loop included). */
  terminate(slot: TaskSlot): void {
    if (slot.terminating) return;
    slot.terminating = true;
    if (slot instanceof WorkerSlot) {
      const index = this.#idle.indexOf(slot);
      if (index >= 0) this.#idle.splice(index, 1);
    }
    this.#all.delete(slot);
    this.#ending.add(slot);
    void slot.closed.then(() => this.#ending.delete(slot));
    slot.end();
  }

  /** Ends every worker and task process and waits until they are gone. */
  async close(): Promise<void> {
    const exits = [...this.#all, ...this.#ending].map((slot) =>
      // A slot that never reports its end must not hang shutdown.
      Promise.race([slot.closed, new Promise<void>((resolve) => setTimeout(resolve, 2_000).unref())]),
    );
    for (const slot of [...this.#all]) this.terminate(slot);
    await Promise.all(exits);
  }

  #spawn(fresh = false): WorkerSlot {
    const worker = new Worker(this.workerUrl);
    const slot = new WorkerSlot(this.#nextId++, worker, fresh);
    this.#all.add(slot);
    worker.addEventListener("message", (event: MessageEvent<FromWorker>) =>
      this.hooks.onMessage(slot, event.data),
    );
    worker.addEventListener("error", (event: ErrorEvent) => {
      slot.lastError = event.message || String(event.error ?? "unknown error");
    });
    worker.addEventListener("close", (event: Event) => {
      slot.exited = true;
      const exitCode = (event as CloseEvent).code ?? 0;
      const crashed = !slot.terminating;
      this.#all.delete(slot);
      const index = this.#idle.indexOf(slot);
      if (index >= 0) this.#idle.splice(index, 1);
      if (crashed) this.hooks.onCrash(slot, exitCode);
    });
    slot.post({
      type: "init",
      control: slot.control.buffer as SharedArrayBuffer,
      fileAccess: this.fileAccess,
    });
    return slot;
  }

  #spawnProcess(): ProcessSlot {
    const slot = new ProcessSlot(this.#nextId++, this.processCommand, {
      onMessage: (from, message) => this.hooks.onMessage(from, message),
      onExit: (from, exitCode, signal) => {
        this.#all.delete(from);
        if (!from.terminating) this.hooks.onCrash(from, exitCode, signal);
      },
    });
    this.#all.add(slot);
    // The process keeps its own control word: it cannot share memory with this one.
    slot.post({ type: "init", control: undefined, fileAccess: this.fileAccess });
    return slot;
  }
}
