// The worker entrypoint of `kiln serve` and the compiled binary: the built-in tasks are part
// of the worker itself, and task files that import "kiln" get this worker's copy of the SDK.

import { builtInTasks } from "../builtin-tasks/index.ts";
import { installKilnModule } from "../kiln-module.ts";
import { startWorker } from "./entry.ts";

installKilnModule();
startWorker(builtInTasks);
