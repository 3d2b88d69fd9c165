/** The timings of the cluster protocol on PostgreSQL; SQLite has one node and uses none of them. */
export interface ClusterTuning {
  /**
   * How long a claim of a running task holds without a heartbeat from its node (default 15 s).
   * A node that dies is noticed this long after its last heartbeat, at worst.
   */
  leaseMs: number;
  /** How often a node renews its leases and reads the requests for its tasks (default lease ÷ 3). */
  heartbeatMs: number;
  /** How often the leader looks for expired leases and dead nodes (default 5 s). */
  rescueMs: number;
  /** How often an idle node looks for ready tasks when no notification woke it (default 1 s). */
  claimPollMs: number;
}

export const DEFAULT_LEASE_MS = 15_000;

/** The tuning with defaults filled in, checked: a heartbeat must come well within a lease. */
export function resolveClusterTuning(given: Partial<ClusterTuning> = {}): ClusterTuning {
  const leaseMs = given.leaseMs ?? DEFAULT_LEASE_MS;
  const tuning: ClusterTuning = {
    leaseMs,
    heartbeatMs: given.heartbeatMs ?? Math.max(50, Math.floor(leaseMs / 3)),
    rescueMs: given.rescueMs ?? 5_000,
    claimPollMs: given.claimPollMs ?? 1_000,
  };
  for (const [name, value] of Object.entries(tuning)) {
    if (!Number.isInteger(value) || value < 10) throw new Error(`${name} must be an integer ≥ 10 (ms)`);
  }
  if (tuning.heartbeatMs * 2 > tuning.leaseMs)
    throw new Error(
      `heartbeatMs (${tuning.heartbeatMs}) must be at most half of leaseMs (${tuning.leaseMs}): one late heartbeat must not lose every lease`,
    );
  return tuning;
}
