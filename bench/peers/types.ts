// The one interface every system in the "peers" scenario implements, kiln included, so that the
// same driver (drive.ts) runs the same workload on each.

export interface PeerContext {
  /** Jobs processed at once, in the system's own notion of it (see `concurrencyNote`). */
  concurrency: number;
  /** A fresh temp directory for file-backed stores, removed after the run. */
  dir: string;
  /** A name no earlier run used: Redis key prefix, PostgreSQL schema. */
  namespace: string;
  /** Call once per job, after the system has recorded its completion (`count` at once for batches). */
  completed(count?: number): void;
}

export interface Durability {
  /** Where jobs live, e.g. "SQLite file (WAL)". */
  store: string;
  /** A few words for the results table, e.g. "SQLite WAL, synchronous=NORMAL". */
  short: string;
  /** The settings that decide what survives a crash, as read from the running system where possible. */
  setting: string;
  /** True when enqueue or completion is acknowledged before it is written to disk. */
  acknowledgedBeforeDisk: boolean;
  /** One line on what a crash can lose. */
  note: string;
}

export interface Peer {
  /** Row label, e.g. "bunqueue (durable: true)". */
  label: string;
  /** Package and version actually loaded. */
  version: string;
  /** What `concurrency` means for this system. */
  concurrencyNote: string;
  /** Null when it can run here; otherwise why not (service unreachable, runtime unsupported). */
  unavailable(): Promise<string | null>;
  /** Opens the store and starts processing with `ctx.concurrency`. */
  setup(ctx: PeerContext): Promise<void>;
  /** Enqueues one no-op job; a promise when the system's API is asynchronous. */
  enqueue(): Promise<unknown> | undefined;
  /**
   * For a system whose completion is known to this process only before it is written (pg-boss
   * completes a batch after its handler returns): resolves true once the store shows `total`
   * completed jobs, false after `timeoutMs`. The driver's clock stops when it resolves.
   */
  settle?(total: number, timeoutMs: number): Promise<boolean>;
  /** Read after the run, from the store itself where possible. */
  durability(): Promise<Durability>;
  /** Jobs the store holds as completed after the run. */
  completedInStore(): Promise<number>;
  /** Stops processing, closes connections and removes what setup created. */
  teardown(): Promise<void>;
}

export interface PeerResult {
  label: string;
  version: string;
  concurrency: number;
  concurrencyNote: string;
  jobs: number;
  completed: number;
  timedOut: boolean;
  /** First enqueue → last completion. */
  ms: number;
  enqueueMs: number;
  jobsPerSec: number;
  completedInStore: number;
  warmupJobs: number;
  /** This process's CPU over wall time (all threads), in % of one core. */
  processCpuPercent: number;
  /** The whole machine's busy CPU over wall time (a Redis or PostgreSQL server included), or null off Linux. */
  machineCpuPercent: number | null;
  durability: Durability;
}

/** What a child run prints: a result, a skip with its reason, or a failure. */
export type ChildOutput =
  | { kind: "result"; result: PeerResult }
  | { kind: "skipped"; label: string; reason: string }
  | { kind: "failed"; label: string; error: string };
