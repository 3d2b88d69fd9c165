/**
 * kiln's PostgreSQL advisory locks, as the two-int keys `pg_advisory_lock(int, int)` takes: the
 * first is "kiln" in ASCII (0x6b696c6e), the second says which lock. Advisory locks are per
 * database, so each kiln database has its own.
 */
export const ADVISORY_LOCKS = {
  /** Held while migrating, so two processes starting together migrate one after the other. */
  migrate: [0x6b696c6e, 1],
  /** Held by the kiln that owns the database, for as long as it runs. */
  owner: [0x6b696c6e, 2],
} as const;
