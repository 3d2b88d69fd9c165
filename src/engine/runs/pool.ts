import type { FileAccess, TaskIsolation } from "../../task/index.ts";
import { fromWorkerPort, toWorkerPort } from "../../worker/port-text.ts";
import { Control, type ControlValue, type FromWorker, type ToWorker } from "../../worker/protocol.ts";
import { ProcessHost } from "./process-host.ts";
import type { RunHost } from "./run-host.ts";

/** One Bun Worker and its control word. A host runs at most one task at a time. */
export class WorkerHost implements RunHost {
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
    this.worker.postMessage(toWorkerPort(message));
  }

  setControl(value: ControlValue): void {
    Atomics.store(this.control, 0, value);
  }

  end(): void {
    this.worker.terminate();
  }
}

export interface PoolHooks {
  onMessage(host: RunHost, message: FromWorker): void;
  /**
   * The host ended without kiln asking (uncaught error, `process.exit`, a signal). `exitCode`
   * is null when a signal ended a task process; `signal` names it.
   */
  onCrash(host: RunHost, exitCode: number | null, signal?: string | null): void;
}

/**
 * Bun Workers reused across tasks. Spawning costs milliseconds, so workers are kept idle
 * between tasks (up to `maxIdle`) rather than spawned per task. A task process, and a fresh
 * worker (`isolation = "fresh"`), serves one run and is ended with it: its memory goes back to
 * the system, and nothing the run left in it reaches another task.
 */
export class WorkerPool {
  readonly #idle: WorkerHost[] = [];
  readonly #all = new Set<RunHost>();
  /** Ended by kiln but not gone yet: `close()` waits for these too. */
  readonly #ending = new Set<RunHost>();
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

  acquire(isolation: TaskIsolation = "worker"): RunHost {
    if (isolation === "process") return this.#spawnProcess();
    if (isolation === "fresh") return this.#spawn(true);
    return this.#idle.pop() ?? this.#spawn();
  }

  /**
   * Returns a host whose task has ended; beyond `maxIdle` idle workers it is ended instead, and
   * so is a task process or a fresh worker, which serve one run.
   */
  release(host: RunHost): void {
    if (host.exited || host.terminating) return;
    if (!(host instanceof WorkerHost) || host.fresh || this.#idle.length >= this.maxIdle) {
      this.terminate(host);
      return;
    }
    host.setControl(Control.NONE);
    this.#idle.push(host);
  }

  /** Ends a host at once, whatever it is doing (a task stuck in a CPU loop included). */
  terminate(host: RunHost): void {
    if (host.terminating) return;
    host.terminating = true;
    if (host instanceof WorkerHost) {
      const index = this.#idle.indexOf(host);
      if (index >= 0) this.#idle.splice(index, 1);
    }
    this.#all.delete(host);
    this.#ending.add(host);
    void host.closed.then(() => this.#ending.delete(host));
    host.end();
  }

  /** Ends every worker and task process and waits until they are gone. */
  async close(): Promise<void> {
    const exits = [...this.#all, ...this.#ending].map((host) =>
      // A host that never reports its end must not hang shutdown.
      Promise.race([host.closed, new Promise<void>((resolve) => setTimeout(resolve, 2_000).unref())]),
    );
    for (const host of [...this.#all]) this.terminate(host);
    await Promise.all(exits);
  }

  #spawn(fresh = false): WorkerHost {
    const worker = new Worker(this.workerUrl);
    const host = new WorkerHost(this.#nextId++, worker, fresh);
    this.#all.add(host);
    worker.addEventListener("message", (event: MessageEvent<unknown>) => {
      const message = fromWorkerPort(event.data);
      if (message) this.hooks.onMessage(host, message);
    });
    worker.addEventListener("error", (event: ErrorEvent) => {
      host.lastError = event.message || String(event.error ?? "unknown error");
    });
    worker.addEventListener("close", (event: Event) => {
      host.exited = true;
      const exitCode = (event as CloseEvent).code ?? 0;
      const crashed = !host.terminating;
      this.#all.delete(host);
      const index = this.#idle.indexOf(host);
      if (index >= 0) this.#idle.splice(index, 1);
      if (crashed) this.hooks.onCrash(host, exitCode);
    });
    host.post({
      type: "init",
      control: host.control.buffer as SharedArrayBuffer,
      fileAccess: this.fileAccess,
    });
    return host;
  }

  #spawnProcess(): ProcessHost {
    const host = new ProcessHost(this.#nextId++, this.processCommand, {
      onMessage: (from, message) => this.hooks.onMessage(from, message),
      onExit: (from, exitCode, signal) => {
        this.#all.delete(from);
        if (!from.terminating) this.hooks.onCrash(from, exitCode, signal);
      },
    });
    this.#all.add(host);
    // The process keeps its own control word: it cannot share memory with this one.
    host.post({ type: "init", control: undefined, fileAccess: this.fileAccess });
    return host;
  }
}
