import type { ControlValue, ToWorker } from "../../worker/protocol.ts";

/**
 * Where one run executes: a pooled worker thread (pool.ts) or a child process (process-host.ts).
 * The manager sees only this, so both isolations share every rule of the lifecycle.
 */
export interface RunHost {
  readonly id: number;
  /** What the host is, in words for error messages: "worker" or "task process". */
  readonly kind: string;
  /** The last uncaught error the host reported, kept to explain a crash. */
  lastError: string | undefined;
  /** Set when kiln itself ends the host, so its exit is not taken for a crash. */
  terminating: boolean;
  exited: boolean;
  post(message: ToWorker): void;
  setControl(value: ControlValue): void;
  /** Ends it at once, whatever it is doing (a synchronous loop included). */
  end(): void;
  /** Resolves once it is gone. */
  readonly closed: Promise<void>;
}
