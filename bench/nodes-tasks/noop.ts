// The several-nodes bench's trivial task, loaded by each `kiln serve` with `--tasks-dir`:
// the cost of one task's way through a node and the shared database, and nothing else.
import { BaseTask } from "kiln";

export class NodeNoop extends BaseTask<unknown, null> {
  static override taskName = "bench-node-noop";
  static override description = "Does nothing and finishes";

  override async run(): Promise<null> {
    return null;
  }
}
