// One no-op task's life as the engine writes it to the store (see src/engine/lifecycle/transitions.ts):
// created PENDING, started RUNNING, ended FINISHED, each with its history row. The scenarios
// that measure the store on its own all replay exactly this.
import type { SqliteSyncStore } from "../src/index.ts";
import type { EventAction } from "../src/task/index.ts";

type Status = "PENDING" | "RUNNING" | "FINISHED";

const event = (from: Status | null, to: Status, action: EventAction, actor: string | null) => ({
  fromStatus: from,
  toStatus: to,
  action,
  reason: null,
  actor,
  source: null,
});

export interface LifecycleOptions {
  /** Actor of the create row: the engine records its caller's ("api", "kiln", or none). */
  createdBy?: string | null;
  /** Every store call goes through here, so a caller can time them one by one. */
  each?: (write: () => unknown) => void;
}

/** The three transactions of one no-op task, on the caller's store. */
export function writeNoopLifecycle(store: SqliteSyncStore, id: string, options: LifecycleOptions = {}): void {
  const each = options.each ?? ((write) => void write());
  const createdBy = options.createdBy === undefined ? "kiln" : options.createdBy;
  each(() =>
    store.createTask(
      {
        id,
        taskName: "bench-noop",
        status: "PENDING",
        params: null,
        priority: 0,
        runAt: null,
        idempotencyKey: null,
        tags: null,
      },
      event(null, "PENDING", "create", createdBy),
    ),
  );
  const now = Date.now();
  each(() =>
    store.transition(
      id,
      ["PENDING"],
      {
        status: "RUNNING",
        lastRunTime: now,
        startTime: now,
        statusReason: null,
        runAt: null,
        requestedAction: null,
      },
      event("PENDING", "RUNNING", "start", "kiln"),
    ),
  );
  each(() =>
    store.transition(
      id,
      ["RUNNING"],
      {
        status: "FINISHED",
        result: null,
        endTime: Date.now(),
        requestedAction: null,
        statusReason: null,
        error: null,
      },
      event("RUNNING", "FINISHED", "finish", "kiln"),
    ),
  );
}
