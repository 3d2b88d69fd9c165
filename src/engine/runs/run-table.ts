import type { RunningCounts } from "../queue/running-counts.ts";
import type { TaskDispatch } from "../queue/task-dispatch.ts";
import type { RunHost } from "./run-host.ts";
import type { LiveRun } from "./runs.ts";

/**
 * The runs on this node: each task's current run (running or parked), the run each worker
 * carries (a detached run keeps its worker until it ends), and the concurrency slots they hold.
 */
export class RunTable {
  readonly byTask = new Map<string, LiveRun>();
  readonly byHost = new Map<RunHost, LiveRun>();

  constructor(
    readonly counts: RunningCounts,
    private readonly dispatcher: Pick<TaskDispatch, "released">,
  ) {}

  /** The run of task `id`, of class `name`, gives its concurrency slot back. */
  freeSlot(name: string, id: string): void {
    this.counts.add(name, -1);
    this.dispatcher.released(id);
  }
}
