// The default task-process entrypoint: every task class is imported from the module the engine names.
import { startTaskProcess } from "./process-host.ts";

startTaskProcess();
