// The default worker entrypoint: every task class is imported from the module the main thread names.
import { startWorker } from "./entry.ts";

startWorker();
