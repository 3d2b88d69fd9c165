import { Control, type ControlValue, type FromWorker, type ToWorker } from "../worker/protocol.ts";

/** One Bun Worker and its control word. A slot runs at most one task at a time. */
export class WorkerSlot {
  readonly control: Int32Array;
  /** The last uncaught error the worker reported, kept to explain a crash. */
  lastError: string | undefined;
  /** Set when kiln itself ends the worker, so its exit is not taken for a crash. */
  terminating = false;
  exited = false;

  constructor(
    readonly id: number,
    readonly worker: Worker,
  ) {
    this.control = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  }

  post(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  setControl(value: ControlValue): void {
    Atomics.store(this.control, 0, value);
  }
}

export interface PoolHooks {
  onMessage(slot: WorkerSlot, message: FromWorker): void;
  /** The worker ended without kiln asking (uncaught error, `process.exit`, out of memory). */
  onCrash(slot: WorkerSlot, exitCode: number): void;
}

/**
 * Bun Workers reused across tasks. Spawning costs milliseconds, so workers are kept idle
 * between tasks (up to `maxIdle`) rather than spawned per task.
 */
export class WorkerPool {
  readonly #idle: WorkerSlot[] = [];
  readonly #all = new Set<WorkerSlot>();
  #nextId = 1;

  constructor(
    private readonly workerUrl: string | URL,
    private readonly hooks: PoolHooks,
    private readonly maxIdle: number,
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

  acquire(): WorkerSlot {
    return this.#idle.pop() ?? this.#spawn();
  }

  /** Returns a worker whose task has ended; beyond `maxIdle` idle workers it is ended instead. */
  release(slot: WorkerSlot): void {
    if (slot.exited || slot.terminating) return;
    slot.setControl(Control.NONE);
    if (this.#idle.length >= this.maxIdle) this.terminate(slot);
    else this.#idle.push(slot);
  }

  /** Ends a worker at once, whatever it is doing (a task stuck in a CPU loop included). */
  terminate(slot: WorkerSlot): void {
    if (slot.terminating) return;
    slot.terminating = true;
    const index = this.#idle.indexOf(slot);
    if (index >= 0) this.#idle.splice(index, 1);
    this.#all.delete(slot);
    slot.worker.terminate();
  }

  /** Ends every worker and waits until they are gone. */
  async close(): Promise<void> {
    const exits = [...this.#all].map(
      (slot) =>
        new Promise<void>((resolve) => {
          if (slot.exited) return resolve();
          slot.worker.addEventListener("close", () => resolve(), { once: true });
          // A worker that never reports close must not hang shutdown.
          setTimeout(resolve, 2_000).unref();
        }),
    );
    for (const slot of [...this.#all]) this.terminate(slot);
    await Promise.all(exits);
  }

  #spawn(): WorkerSlot {
    const worker = new Worker(this.workerUrl);
    const slot = new WorkerSlot(this.#nextId++, worker);
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
    slot.post({ type: "init", control: slot.control.buffer as SharedArrayBuffer });
    return slot;
  }
}
