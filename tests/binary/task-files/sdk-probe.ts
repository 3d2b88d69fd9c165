// A task file that reports, from the thread or process that runs it, what its imports of the SDK
// resolved to: "kiln" (as the binary's task files write it), the package's name and its "/task".
import * as asPackage from "@kiln-tasks/kiln";
import { BaseTask, t } from "@kiln-tasks/kiln/task";
import * as kiln from "kiln";

function probe(task: BaseTask) {
  const loaded = [kiln, asPackage] as Array<Record<string, unknown>>;
  return {
    exports: Object.keys(kiln).sort(),
    engineLoaded: loaded.some((module) => "TaskManager" in module || "SqliteSyncStore" in module),
    oneSdk: kiln.BaseTask === BaseTask && asPackage.BaseTask === BaseTask,
    isBaseTask: task instanceof kiln.BaseTask,
    schema: t.Object({ n: t.Integer() }).type,
  };
}

export class SdkProbe extends BaseTask {
  static override taskName = "sdk-probe";

  override async run() {
    return probe(this);
  }
}

export class SdkProbeInProcess extends BaseTask {
  static override taskName = "sdk-probe-process";
  static override isolation = "process" as const;

  override async run() {
    return probe(this);
  }
}
