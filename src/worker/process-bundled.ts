// The task-process entrypoint of `kiln serve` and the compiled binary (`kiln __task-process`):
// the built-in tasks are part of it, and task files that import "kiln" get this process's SDK.

import { builtInTasks } from "../builtin-tasks/index.ts";
import { installKilnModule } from "../kiln-module.ts";
import { startTaskProcess } from "./process-host.ts";

installKilnModule();
startTaskProcess(builtInTasks);
