import type { TaskClass } from "../task/index.ts";
import { ChecksumFileTask } from "./checksum-file.ts";
import { CopyFileTask } from "./copy-file.ts";
import { CountTask } from "./demo.ts";
import { WalkDirectoryTask } from "./walk-directory.ts";

export { ChecksumFileTask, CopyFileTask, CountTask, WalkDirectoryTask };

/** The task classes every kiln binary registers and preloads into its workers. */
export const builtInTasks: readonly TaskClass[] = [
  CountTask,
  CopyFileTask,
  ChecksumFileTask,
  WalkDirectoryTask,
];
