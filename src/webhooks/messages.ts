import type { EndpointTuning } from "./endpoint.ts";

/** One event for every URL, built on the engine's thread. */
export interface QueuedEvent {
  id: string;
  taskId: string;
  type: string;
  body: string;
}

/** From the engine's thread to the delivery thread. */
export type ToDelivery =
  | {
      type: "start";
      urls: readonly string[];
      secret: string;
      tuning: EndpointTuning;
      counts: SharedArrayBuffer;
    }
  | { type: "events"; events: QueuedEvent[] }
  /** Answer with `settled` once nothing waits (true) or after `timeoutMs` (false). */
  | { type: "idle"; request: number; timeoutMs: number }
  /** Wait up to `graceMs`, then cancel what is left; answer with `settled`, `left` the events dropped. */
  | { type: "close"; request: number; graceMs: number };

/** From the delivery thread back. */
export type FromDelivery =
  | {
      type: "log";
      level: "debug" | "info" | "warn" | "error";
      message: string;
      fields: Record<string, unknown>;
    }
  | { type: "settled"; request: number; idle: boolean; left: number };
