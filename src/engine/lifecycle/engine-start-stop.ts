import { Unit } from "../commit/unit.ts";
import type { EngineParts } from "../manager-parts.ts";
import { ClaimDispatcher } from "../queue/claim-dispatch.ts";
import { restoreActiveTasks } from "./restore.ts";

/** How often held-back tasks are looked at for a wait that ended unseen (see DependencyWatch). */
const DEPENDENCY_SWEEP_MS = 5_000;

/**
 * Puts what the database holds back to work at start-up. Alone on its database, the engine
 * restores every active task. Shared with other nodes, it joins them instead: their RUNNING
 * tasks are theirs, PENDING ones are claimed from the database, and a dead node's runs are the
 * leader's to rescue (at once, for a node of this host whose process is gone).
 */
export async function resumeWork(parts: EngineParts): Promise<void> {
  const { guard, hub, registry, transitions, settlement, dispatcher, runtime } = parts;
  if (runtime) {
    await runtime.start();
    return;
  }
  const active = await guard.listActive();
  // Nothing to write when nothing was active: a start then needs no writable database.
  if (active.length === 0) return;
  await Unit.run(guard, hub, (unit) =>
    restoreActiveTasks(unit, active, registry, transitions, settlement, (task) => dispatcher.enqueue(task)),
  );
}

/** The engine takes work from now on: workers warm, the queue (or the claims) going. */
export function beginDispatch(parts: EngineParts, concurrency: number): void {
  parts.pool.warm(concurrency);
  if (parts.dispatcher instanceof ClaimDispatcher) parts.dispatcher.startPolling();
  parts.dispatcher.request();
  parts.retention?.start();
  parts.dependencies.start(DEPENDENCY_SWEEP_MS);
}

/**
 * Shutdown's part for the runs: each is asked to pause at its next checkpoint (it resumes on the
 * next start, or on another node), what did not answer within `graceMs` is ended, and every
 * write is flushed before the workers go.
 */
export async function windDownRuns(parts: EngineParts, graceMs: number): Promise<void> {
  const { executor, commits, telemetry, writes, pool } = parts;
  executor.pauseAllForShutdown();
  await executor.untilIdle(graceMs);
  await commits.flush();
  executor.terminateUnpaused();
  await commits.flush();
  await telemetry.close();
  await writes.retryNow();
  writes.close();
  await pool.close();
}
