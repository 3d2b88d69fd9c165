import type { FromWorker, ToWorker } from "./protocol.ts";

/**
 * How protocol messages cross a Bun Worker's port: as JSON text rather than as objects. Bun
 * hands a string to the other thread as it is, while an object is walked by the structured
 * clone on one side and rebuilt on the other; on the main thread, which every run's start and
 * end go through, that walk cost more than the whole JSON round trip (bench/port-text.ts).
 * Every value the protocol carries is JSON already: params, states and results are stored as
 * JSON, and results and states travel as JSON text inside the message.
 *
 * Two kinds of message still go as objects: `init`, whose control word is a SharedArrayBuffer,
 * and a message from a worker whose text would be longer than `MAX_PORT_TEXT`: a large result
 * or state text inside JSON text is escaped in the worker and unescaped on the main thread,
 * where the structured clone copies it in one piece. Toward a worker, size does not matter: the
 * main thread walks the params once either way, and the parse is the worker's.
 */
export const MAX_PORT_TEXT = 64 * 1024;

/** What the main thread posts to a worker for `message`. */
export function toWorkerPort(message: ToWorker): ToWorker | string {
  return message.type === "init" ? message : JSON.stringify(message);
}

/** A message on the worker's port: only the engine posts there. */
export function fromMainPort(data: ToWorker | string): ToWorker {
  return typeof data === "string" ? (JSON.parse(data) as ToWorker) : data;
}

/** What a worker posts to the main thread for `message`. */
export function toMainPort(message: FromWorker): FromWorker | string {
  const text = JSON.stringify(message);
  return text.length > MAX_PORT_TEXT ? message : text;
}

/**
 * A message on a worker's port, as the main thread receives it; undefined for what cannot be
 * one. The task running there can post on the port itself, anything at all: text that is not
 * JSON, or JSON that is not an object, is no message, and text longer than any the worker's
 * runtime sends is not parsed on the main thread. What does parse is checked like any message
 * (engine/runs/worker-message.ts).
 */
export function fromWorkerPort(data: unknown): FromWorker | undefined {
  let value = data;
  if (typeof data === "string") {
    if (data.length > MAX_PORT_TEXT) return undefined;
    try {
      value = JSON.parse(data);
    } catch {
      return undefined;
    }
  }
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as FromWorker)
    : undefined;
}
