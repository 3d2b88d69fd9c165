// The one interface every system in the "peers" scenario implements, kiln included, so that the
// same driver (drive.ts) runs the same workload on each.
import type { LagSummary } from "../lag-monitor.ts";

/** One enqueue call per job, or the system's bulk call for many jobs at once. */
export type EnqueueMode = "single" | "bulk";

/**
 * What an acknowledged job survives, judged from the settings read from the running system:
 * "power-loss" (flushed to disk before the acknowledgement), "process-crash" (handed to the OS
 * before it, so only an OS crash or a power loss can lose it), "none" (acknowledged from memory).
 */
export type DurabilityLevel = "none" | "process-crash" | "power-loss";

export interface PeerContext {
  /** A fresh temp directory for file-backed stores, removed after the run. */
  dir: string;
  /** A name no earlier run used: Redis key prefix, PostgreSQL database. */
  namespace: string;
  /** Call once per job, after the system has recorded its completion (`count` at once for batches). */
  completed(count?: number): void;
}

export interface Durability {
  level: DurabilityLevel;
  /** A few words for the tables, e.g. "SQLite WAL, synchronous=NORMAL". */
  short: string;
  /** The settings that decide what survives a crash, as read from the running system. */
  setting: string;
  /** One line on what a crash can lose. */
  note: string;
}

export interface Peer {
  /** Row label, e.g. "bunqueue (durable: true)". */
  label: string;
  /** Package and version actually loaded. */
  version: string;
  /** Its configuration (concurrency, batching, polling) in a few words. */
  settings: string;
  /** Where that configuration comes from: the system's own documentation or benchmark, in words. */
  why: string;
  /** Null when it can run here; otherwise why not (service unreachable, runtime unsupported). */
  unavailable(): Promise<string | null>;
  /** Opens the store and starts processing. */
  setup(ctx: PeerContext): Promise<void>;
  /** Enqueues one no-op job; a promise when the system's API is asynchronous. */
  enqueue(): Promise<unknown> | undefined;
  /** Enqueues `count` no-op jobs with the system's bulk call (one call). */
  enqueueMany(count: number): Promise<unknown> | undefined;
  /**
   * For a system whose completion is known to this process only before it is written (pg-boss
   * completes a batch after its handler returns): resolves true once the store shows `total`
   * completed jobs, false after `timeoutMs`. The driver's clock stops when it resolves.
   */
  settle?(total: number, timeoutMs: number): Promise<boolean>;
  /** Read after the run, from the running system. */
  durability(): Promise<Durability>;
  /** Jobs the store holds as completed after the run (or, where it deletes them, jobs added and gone). */
  completedInStore(): Promise<number>;
  /** Stops processing, closes connections and removes what setup created. */
  teardown(): Promise<void>;
}

export interface PeerResult {
  label: string;
  version: string;
  settings: string;
  why: string;
  mode: EnqueueMode;
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
  /** The 1-minute load average just before the run, or null off Linux. */
  loadAverage: number | null;
  /** This process's event loop during the run. */
  lag: LagSummary;
  durability: Durability;
}

/** What a child run prints: a result, a skip with its reason, or a failure. */
export type ChildOutput =
  | { kind: "result"; result: PeerResult }
  | { kind: "skipped"; label: string; reason: string }
  | { kind: "failed"; label: string; error: string };
