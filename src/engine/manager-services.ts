import { type ScheduleClock, systemClock } from "../schedules/clock.ts";
import { ScheduleService } from "../schedules/service.ts";
import { ChildStops } from "./lifecycle/child-stops.ts";
import type { ControlAction } from "./lifecycle/lifecycle.ts";
import { TaskTypePauses } from "./lifecycle/task-type-pause.ts";
import type { ControlOptions, ControlResult } from "./manager-options.ts";
import type { EngineParts, ResolvedOptions } from "./manager-parts.ts";

/** The manager's services on top of its parts: each acts on tasks through the manager's control. */
export interface ManagerServices {
  /** Schedules: declared ones registered at start, the API's, and the timer that fires them. */
  schedules: ScheduleService;
  namePauses: TaskTypePauses;
  childStops: ChildStops;
}

/** The manager's control calls, as the services use them. */
export interface ManagerControl {
  control(action: ControlAction, id: string, options: ControlOptions): Promise<ControlResult>;
  pause(id: string, options: ControlOptions): Promise<ControlResult>;
  resume(id: string, options: ControlOptions): Promise<ControlResult>;
}

export function buildServices(
  parts: EngineParts,
  resolved: ResolvedOptions,
  scheduleClock: ScheduleClock | undefined,
  manager: ManagerControl,
): ManagerServices {
  const namePauses = new TaskTypePauses(
    parts.guard,
    parts.dispatcher,
    (id, control) => manager.pause(id, control),
    (id, control) => manager.resume(id, control),
  );
  const childStops = new ChildStops({
    ...parts,
    store: parts.guard,
    stop: (id, controlOptions) => manager.control("stop", id, controlOptions),
    logger: resolved.logger,
  });
  const schedules = new ScheduleService({
    ...parts,
    logger: resolved.logger,
    clock: scheduleClock ?? systemClock,
    resume: (id, controlOptions) => manager.control("resume", id, controlOptions),
    // Nodes sharing a database leave the firing to their leader; alone, a node always fires.
    ...(parts.runtime
      ? {
          firesHere: () => parts.runtime?.isLeader === true,
          sharedWithOtherNodes: () => parts.runtime?.alone === false,
        }
      : {}),
  });
  return { schedules, namePauses, childStops };
}
