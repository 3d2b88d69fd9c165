import type { TaskClass } from "../task/index.ts";
import { startTaskHost } from "./entry.ts";
import { dieWithParent } from "./parent-death.ts";
import { type FromWorker, PARENT_PID_ENV, type ToWorker } from "./protocol.ts";

/** A checkpoint in a task process lets control messages in at least this often. */
const YIELD_EVERY_MS = 10;

/**
 * Turns this process into a task process: the engine that spawned it (with Bun's IPC, advanced
 * serialization) speaks the worker protocol to it, one run per process.
 */
export function startTaskProcess(preloaded: readonly TaskClass[] = []): void {
  const send = process.send?.bind(process);
  if (!send) {
    console.error("kiln: a task process must be started by kiln over IPC");
    process.exit(2);
  }
  // The parent is gone (crashed or killed): nothing could receive this run's outcome, and
  // nothing would enforce its memory cap.
  const parentPid = Number(process.env[PARENT_PID_ENV]);
  if (Number.isInteger(parentPid) && parentPid > 0) dieWithParent(parentPid);
  process.on("disconnect", () => process.exit(1));
  startTaskHost(
    {
      post: (message: FromWorker) => {
        send(message);
      },
      listen: (handler) => {
        process.on("message", (message) => handler(message as ToWorker));
      },
      control: new Int32Array(1),
      yieldEveryMs: YIELD_EVERY_MS,
    },
    preloaded,
  );
  send({ type: "ready" } satisfies FromWorker);
}
