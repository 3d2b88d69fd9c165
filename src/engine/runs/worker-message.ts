import { MAX_WAIT_FOR_IDS } from "../../flow/index.ts";
import { JsonText } from "../../store/index.ts";
import { LOG_LEVELS, REQUESTED_ACTIONS, type TaskError, type ValueLimits } from "../../task/index.ts";
import {
  clipToBytes,
  LIMIT_FLAGS,
  MAX_JSON_DEPTH,
  nestsDeeperThan,
  utf8Bytes,
} from "../../task/json-value.ts";
import { clipText, type FromWorker } from "../../worker/protocol.ts";
import { LATEST_DATE_MS } from "../creation/create-options.ts";

/** A worker message once checked: JSON text comes with its value, ready for the store. */
export type CheckedMessage =
  | Exclude<FromWorker, { type: "ready" | "checkpoint" | "paused" | "finished" | "suspended" }>
  | { type: "suspended"; taskId: string; state: JsonText | undefined }
  | { type: "checkpoint"; taskId: string; state: JsonText }
  | { type: "paused"; taskId: string; state: JsonText | undefined }
  | { type: "finished"; taskId: string; result: JsonText | undefined };

/**
 * A message refused. `ends`: it was about the run's end or its saved state, so the run cannot
 * go on (its worker is ended and the task fails); otherwise only the message is dropped.
 */
export interface RefusedMessage {
  problem: string;
  ends: boolean;
}

type Raw = Record<string, unknown>;

/** Messages that can be dropped alone; any other refused message ends the run. */
const DROPPABLE = new Set(["progress", "log", "request", "spawn"]);
const MAX_ERROR_NAME = 200;
const MAX_ERROR_MESSAGE = 4_000;
const MAX_ERROR_STACK = 8_000;

class Refused extends Error {}

/** JSON text as the worker should have made it: a string, within `maxBytes`, not too deep, parsable. */
function jsonText(raw: unknown, what: string, maxBytes: number): JsonText {
  if (typeof raw !== "string") throw new Refused(`its ${what} is not JSON text but ${typeof raw}`);
  if (raw.length * 3 > maxBytes && (raw.length > maxBytes || utf8Bytes(raw) > maxBytes)) {
    throw new Refused(`its ${what} is over the ${maxBytes}-byte limit`);
  }
  if (raw.length > 2 * MAX_JSON_DEPTH && nestsDeeperThan(raw, MAX_JSON_DEPTH)) {
    throw new Refused(`its ${what} nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  try {
    return new JsonText(raw, JSON.parse(raw));
  } catch (error) {
    throw new Refused(`its ${what} is not JSON (${(error as Error).message})`);
  }
}

function optionalJsonText(raw: unknown, what: string, maxBytes: number): JsonText | undefined {
  return raw === undefined ? undefined : jsonText(raw, what, maxBytes);
}

const isCount = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value) && value >= 0;

function optionalText(raw: unknown, what: string): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== "string") throw new Refused(`its ${what} is not text`);
  return clipText(raw);
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length - max} more characters)` : text;
}

/** A failure as a worker reports it, made fit to store whatever it holds: the run ends anyway. */
function taskError(raw: unknown): TaskError {
  if (typeof raw !== "object" || raw === null) {
    return {
      name: "ProtocolViolation",
      message: "the task's worker reported a failure without an error",
      retryable: false,
    };
  }
  const { name, message, stack, retryable } = raw as Raw;
  return {
    name: typeof name === "string" && name !== "" ? clip(name, MAX_ERROR_NAME) : "Error",
    message: typeof message === "string" ? clip(message, MAX_ERROR_MESSAGE) : "",
    ...(typeof stack === "string" ? { stack: clip(stack, MAX_ERROR_STACK) } : {}),
    retryable: retryable !== false,
  };
}

function check(raw: Raw, taskId: string, limits: ValueLimits): CheckedMessage {
  switch (raw.type) {
    case "progress": {
      if (!isCount(raw.done)) throw new Refused("its progress is not a finite number ≥ 0");
      const total = raw.total ?? undefined;
      if (total !== undefined && !(isCount(total) && total >= raw.done)) {
        throw new Refused("its progress total is not a finite number ≥ done");
      }
      return {
        type: "progress",
        taskId,
        done: raw.done,
        total,
        message: optionalText(raw.message, "message"),
      };
    }
    case "log": {
      if (!(LOG_LEVELS as readonly unknown[]).includes(raw.level))
        throw new Refused("its log level is unknown");
      if (typeof raw.message !== "string") throw new Refused("its log line is not text");
      const at = raw.at;
      if (!isCount(at) || at > LATEST_DATE_MS)
        throw new Refused("its log line's time is not a date kiln can show");
      const message = clipToBytes(raw.message, limits.maxLogLineBytes, LIMIT_FLAGS.maxLogLineBytes);
      return { type: "log", taskId, level: raw.level as (typeof LOG_LEVELS)[number], message, at };
    }
    case "request":
      if (!(REQUESTED_ACTIONS as readonly unknown[]).includes(raw.action)) {
        throw new Refused("it asks for an unknown action");
      }
      return {
        type: "request",
        taskId,
        action: raw.action as (typeof REQUESTED_ACTIONS)[number],
        reason: optionalText(raw.reason, "reason"),
      };
    case "spawn":
      // The SDK's spawn() always sends these; a task posting on its port itself awaits no answer.
      if (typeof raw.name !== "string" || raw.name === "") throw new Refused("its spawn names no task");
      if (!Number.isSafeInteger(raw.callId)) throw new Refused("its spawn call has no id");
      if (typeof raw.paramsJson !== "string") throw new Refused("its spawn params are not JSON text");
      return {
        type: "spawn",
        taskId,
        callId: raw.callId as number,
        name: raw.name,
        paramsJson: raw.paramsJson,
      };
    case "wait-for": {
      // Not droppable: the task awaits the answer, and its run cannot go on without one.
      if (!Number.isSafeInteger(raw.callId)) throw new Refused("its waitFor call has no id");
      const ids = raw.ids;
      if (!Array.isArray(ids) || ids.length > MAX_WAIT_FOR_IDS || ids.some((id) => typeof id !== "string"))
        throw new Refused(`its waitFor ids are not a list of at most ${MAX_WAIT_FOR_IDS} task ids`);
      return { type: "wait-for", taskId, callId: raw.callId as number, ids: ids as string[] };
    }
    case "suspended":
      return {
        type: "suspended",
        taskId,
        state: optionalJsonText(raw.stateJson, "state", limits.maxCheckpointBytes),
      };
    case "checkpoint":
      return {
        type: "checkpoint",
        taskId,
        state: jsonText(raw.stateJson, "state", limits.maxCheckpointBytes),
      };
    case "paused":
      return {
        type: "paused",
        taskId,
        state: optionalJsonText(raw.stateJson, "state", limits.maxCheckpointBytes),
      };
    case "finished":
      return {
        type: "finished",
        taskId,
        result: optionalJsonText(raw.resultJson, "result", limits.maxResultBytes),
      };
    case "failed":
      return { type: "failed", taskId, error: taskError(raw.error) };
    case "stopped":
      return {
        type: "stopped",
        taskId,
        reason: typeof raw.reason === "string" ? clipText(raw.reason) : "stopped",
      };
    case "released":
      return { type: "released", taskId };
    case "memory":
      return {
        type: "memory",
        taskId,
        usedBytes: Number(raw.usedBytes) || 0,
        limitBytes: Number(raw.limitBytes) || 0,
        measured: raw.measured === "rss" ? "rss" : "heap",
      };
    default:
      throw new Refused(`its type ${JSON.stringify(String(raw.type)).slice(0, 60)} is unknown`);
  }
}

/**
 * Checks a message from the worker running `taskId` before the engine uses it. The worker's own
 * runtime sends only well-formed messages, but a task can post on its worker's port (or its
 * process's IPC channel) itself; nothing it sends may throw on the main thread or reach the store
 * unchecked.
 */
export function checkWorkerMessage(
  raw: FromWorker,
  taskId: string,
  limits: ValueLimits,
): { message: CheckedMessage } | RefusedMessage {
  const fields = raw as unknown as Raw;
  try {
    return { message: check(fields, taskId, limits) };
  } catch (error) {
    if (!(error instanceof Refused)) throw error;
    const type = typeof fields.type === "string" ? fields.type : "unknown";
    return {
      problem: `the task's worker sent a "${type.slice(0, 40)}" message kiln refused: ${error.message}`,
      ends: !DROPPABLE.has(type),
    };
  }
}
