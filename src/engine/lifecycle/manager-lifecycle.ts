import { describeFault } from "../../store/index.ts";
import { NotAcceptingError } from "../errors.ts";
import type { EngineParts, ResolvedOptions } from "../manager-parts.ts";
import type { ManagerServices } from "../manager-services.ts";
import { beginDispatch, resumeWork, windDownRuns } from "./engine-start-stop.ts";

type State = "new" | "running" | "stopping" | "stopped";

/**
 * The manager's own state, new → running → stopping → stopped, and the start and the shutdown
 * that move it: what runs in which order, and what the manager accepts in each state.
 */
export class ManagerLifecycle {
  #state: State = "new";
  #starting: Promise<void> | undefined;
  #shutdown: Promise<void> | undefined;

  constructor(
    private readonly parts: EngineParts,
    private readonly options: Pick<ResolvedOptions, "concurrency" | "logger" | "shutdownGraceMs">,
    private readonly services: ManagerServices,
  ) {}

  /** Started and not shutting down: work is taken. */
  get running(): boolean {
    return this.#state === "running";
  }

  /** Not yet stopping: how this node reports itself. */
  get alive(): boolean {
    return this.#state === "running" || this.#state === "new";
  }

  readiness(): { ready: true } | { ready: false; reason: string } {
    if (this.#state === "new") return { ready: false, reason: "kiln has not started yet" };
    if (this.#state !== "running") return { ready: false, reason: "kiln is shutting down" };
    const fault = this.parts.guard.lastingFault(true);
    if (fault) return { ready: false, reason: `the database cannot be used: ${describeFault(fault)}` };
    return { ready: true };
  }

  /** Throws unless new tasks are taken. */
  #assertAccepting(): void {
    if (this.#state === "new") throw new NotAcceptingError("kiln has not started yet");
    if (this.#state !== "running")
      throw new NotAcceptingError("kiln is shutting down and accepts no new tasks");
  }

  /** `work()` if new tasks are taken; else, or if `work` throws, a rejection. */
  whenAccepting<T>(work: () => Promise<T>): Promise<T> {
    try {
      this.#assertAccepting();
      return work();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** `work()` while running (what it throws is thrown); a rejection with NotAcceptingError otherwise. */
  whenRunning<T>(work: () => Promise<T>): Promise<T> {
    if (this.#state !== "running")
      return Promise.reject(new NotAcceptingError("kiln is not running (starting or shutting down)"));
    return work();
  }

  start(): Promise<void> {
    if (this.#state === "running") return Promise.resolve();
    if (this.#state !== "new")
      return Promise.reject(new Error("a TaskManager cannot start again after shutdown"));
    this.#starting ??= this.#startNow().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #startNow(): Promise<void> {
    const { guard, counts, ended } = this.parts;
    const { schedules, namePauses, childStops } = this.services;
    // A damaged file is refused here, in one line, not by some request later.
    await guard.probeIntegrity();
    await guard.migrate();
    await guard.verifyReadable();
    // Before anything is written: an end committed meanwhile would be counted twice or not at all.
    await ended?.seed(guard, Date.now()).catch((error: unknown) =>
      this.options.logger.warn(
        "counting the tasks ended in the last hour failed; /stats reads them from the database",
        {
          error: String(error),
        },
      ),
    );
    // The first count of tasks per status runs in small steps from now on, off the hot path.
    counts.ready().catch((error: unknown) =>
      this.options.logger.warn("counting tasks failed; the next read tries again", {
        error: String(error),
      }),
    );
    // Paused names first: a restored task of a paused name must wait, not start.
    await namePauses.restore();
    await resumeWork(this.parts);
    await schedules.register();
    if (this.#state !== "new") return;
    this.#state = "running";
    beginDispatch(this.parts, this.options.concurrency);
    childStops.start();
    await schedules.start();
  }

  shutdown(): Promise<void> {
    this.#shutdown ??= this.#shutdownNow();
    return this.#shutdown;
  }

  async #shutdownNow(): Promise<void> {
    const { guard, creates, dispatcher, counts, retention, runtime } = this.parts;
    // Submitted before the shutdown began, so still accepted.
    await creates.flush();
    await this.#starting?.catch(() => undefined);
    const wasRunning = this.#state === "running";
    await this.services.schedules.stop();
    this.#state = "stopping";
    await runtime?.stopping();
    dispatcher.stop();
    counts.stop();
    this.parts.dependencies.stop();
    this.services.childStops.stop();
    await retention?.stop();
    if (wasRunning) await windDownRuns(this.parts, this.options.shutdownGraceMs);
    // After the runs were handed back: the other nodes claim them as soon as this one is gone.
    await runtime?.stop();
    this.#state = "stopped";
    if (this.parts.ownsStore) await guard.close();
    this.parts.ownerLock?.release();
  }
}
