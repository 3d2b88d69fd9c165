import { ACTIVE_STATUSES } from "../../task/index.ts";
import type { GuardedStore } from "../commit/storage-guard.ts";
import type { EventHub, ManagerEvent } from "../events.ts";
import type { Logger } from "../logger.ts";
import type { ControlOptions } from "../manager-options.ts";
import type { TaskRegistry } from "../registry.ts";
import { ENGINE } from "./transitions.ts";

/** Children looked at when a parent stops: more than one task could spawn in any sane tree. */
const MAX_CHILDREN = 1_000_000;

/**
 * A stopped task stops the children it spawned that have not ended, unless its class says
 * `static stopChildrenWithParent = false`; their own children follow the same way. Done after the
 * parent's stop is committed, by the node that wrote it, each child stopped as the API would stop
 * it (a running child at its next checkpoint). A crash between the two leaves the children
 * running: stop them again by hand, or stop the parent again after a restart of it.
 */
export class ChildStops {
  #unsubscribe: (() => void) | undefined;

  constructor(
    private readonly deps: {
      hub: EventHub;
      store: Pick<GuardedStore, "childrenOf">;
      registry: TaskRegistry;
      stop: (id: string, options: ControlOptions) => Promise<unknown>;
      logger: Logger;
    },
  ) {}

  start(): void {
    this.#unsubscribe ??= this.deps.hub.subscribe((event) => this.#heard(event));
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  #heard(event: ManagerEvent): void {
    if (event.type !== "transition" || event.to !== "STOPPED") return;
    const registered = this.deps.registry.get(event.task.taskName);
    if (registered?.cls.stopChildrenWithParent === false) return;
    void this.#stopChildren(event.task.id);
  }

  async #stopChildren(parentId: string): Promise<void> {
    try {
      const children = await this.deps.store.childrenOf(parentId, MAX_CHILDREN);
      const active = children.items.filter((child) => ACTIVE_STATUSES.includes(child.status));
      for (const child of active) {
        await this.deps
          .stop(child.id, { ...ENGINE, reason: `its parent ${parentId} was stopped` })
          .catch((error: unknown) => {
            // Ended meanwhile, or deleted: nothing left to stop.
            this.deps.logger.debug(`child ${child.id} of ${parentId} was not stopped`, {
              error: String(error),
            });
          });
      }
    } catch (error) {
      this.deps.logger.warn(`stopping the children of task ${parentId} failed`, { error: String(error) });
    }
  }
}
