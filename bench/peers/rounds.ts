// Runs every (system, enqueue mode) pair once per round, each in a child process of its own,
// the order rotated from round to round so that no system always runs first, last, or right
// after the same neighbour while the machine's load drifts.
import { runBunChild } from "../child-run.ts";
import type { ChildRequest } from "./child.ts";
import type { PeerId } from "./index.ts";
import type { ChildOutput, EnqueueMode } from "./types.ts";

const CHILD_SCRIPT = Bun.fileURLToPath(new URL("./child.ts", import.meta.url));
/** Extra time a child gets for start-up and teardown beyond its run's own limit. */
const CHILD_GRACE_MS = 60_000;

export interface RunSpec {
  id: PeerId;
  mode: EnqueueMode;
}

export interface RoundRun extends RunSpec {
  round: number;
  /** Position in its round, from 0. */
  position: number;
  output: ChildOutput;
}

/** `specs` in round `round` of `rounds`: rotated by a share of the list each round. */
export function roundOrder<T>(specs: readonly T[], round: number, rounds: number): T[] {
  const step = Math.max(1, Math.ceil(specs.length / Math.max(1, rounds)));
  const offset = (round * step) % Math.max(1, specs.length);
  return [...specs.slice(offset), ...specs.slice(0, offset)];
}

/** How much of a failed child's stderr its error keeps: the end, where a stack trace ends. */
const STDERR_TAIL_CHARS = 800;

async function runChild(request: ChildRequest): Promise<ChildOutput> {
  const { code, out, err, lastLine } = await runBunChild(
    [CHILD_SCRIPT, JSON.stringify(request)],
    request.timeoutMs + CHILD_GRACE_MS,
  );
  if (code !== 0 || !lastLine?.startsWith("{")) {
    return { kind: "failed", label: request.peer, error: `exit ${code}: ${err.trim() || out.trim()}` };
  }
  const output = JSON.parse(lastLine) as ChildOutput;
  // A run that failed inside the child (a peer's worker process that ended, say) says why with
  // what the child's own processes printed, the only place a peer's crash shows.
  const printed = err.trim();
  if (output.kind === "failed" && printed !== "") {
    return { ...output, error: `${output.error}; stderr: ${printed.slice(-STDERR_TAIL_CHARS)}` };
  }
  return output;
}

/**
 * Every spec once per round, in the round's order. `parallel` > 1 runs that many children at
 * once: only for --quick, whose runs check completion, not speed.
 */
export async function runRounds(
  specs: readonly RunSpec[],
  options: { rounds: number; n: number; timeoutMs: number; parallel: number },
  onRun?: (run: RoundRun) => void,
): Promise<RoundRun[]> {
  const runs: RoundRun[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const order = roundOrder(specs, round, options.rounds);
    for (let start = 0; start < order.length; start += options.parallel) {
      const batch = order.slice(start, start + options.parallel);
      await Promise.all(
        batch.map(async (spec, i) => {
          const output = await runChild({
            peer: spec.id,
            mode: spec.mode,
            n: options.n,
            timeoutMs: options.timeoutMs,
          });
          const run = { ...spec, round, position: start + i, output };
          runs.push(run);
          onRun?.(run);
        }),
      );
    }
  }
  return runs;
}
