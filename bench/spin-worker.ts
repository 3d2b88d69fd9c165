// A thread that spins for ever at the priority kiln gives its task workers (lowerThreadPriority,
// nice 10 above the main thread): the load of the wrk control in bench/responsiveness.ts, what
// a CPU-bound task does to the cores without anything of kiln around it. Ended by terminate().
import { lowerThreadPriority, TASK_WORKER_NICENESS } from "../src/worker/thread-priority.ts";

declare const self: Worker;

lowerThreadPriority(TASK_WORKER_NICENESS);
self.postMessage("spinning");
for (;;) {
  // Nothing: CPU time until terminated.
}
