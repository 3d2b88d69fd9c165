import type { TSchema } from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import { Value } from "@sinclair/typebox/value";
import {
  checkFlowDeclarations,
  type FlowRules,
  NAME_WIDE_KEY,
  type TaskKeys,
  taskKeysOf,
} from "../flow/index.ts";
import {
  DEFAULT_RETRY,
  isTaskClass,
  type RetryPolicy,
  TASK_ISOLATIONS,
  type TaskClass,
  type TaskIsolation,
} from "../task/index.ts";
import { InvalidParamsError, type ParamIssue, UnknownTaskNameError } from "./errors.ts";

/** A registered task class with its options resolved and its schemas compiled once. */
export interface RegisteredTask {
  name: string;
  cls: TaskClass;
  /** Module the worker imports to find the class; undefined when the worker entry preloads it. */
  module: string | undefined;
  retry: Required<RetryPolicy>;
  timeoutMs: number | undefined;
  /** The limit of runs of the whole name at once (`static concurrency = 2`); undefined for none or per key. */
  concurrency: number | undefined;
  /** `static rateLimit` and `static concurrency`, checked. */
  flow: FlowRules;
  resumable: boolean;
  checkpointIntervalMs: number;
  stopGraceMs: number | undefined;
  isolation: TaskIsolation;
  /** The class's own memory cap; the manager's default applies when undefined. */
  memoryLimitMb: number | undefined;
  paramsSchema: TSchema | undefined;
  resultSchema: TSchema | undefined;
  /** Applies schema defaults and validates; throws `InvalidParamsError`. */
  parseParams(params: unknown): unknown;
  /** Returns the issues of a result against the result schema (empty when valid or unchecked). */
  checkResult(result: unknown): ParamIssue[];
  /**
   * The keys stored with a new task of checked params; null when the class has neither a rate
   * limit nor a per-key concurrency limit (nothing to store).
   */
  taskKeys(params: unknown): TaskKeys | null;
}

const DEFAULT_CHECKPOINT_INTERVAL_MS = 200;
const MAX_ISSUES = 20;

function issuesOf(check: TypeCheck<TSchema>, value: unknown): ParamIssue[] {
  const issues: ParamIssue[] = [];
  for (const error of check.Errors(value)) {
    issues.push({ path: error.path, message: error.message });
    if (issues.length >= MAX_ISSUES) break;
  }
  return issues;
}

function positiveOrUndefined(value: unknown, what: string, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new Error(`task "${name}": static ${what} must be a positive number, got ${String(value)}`);
  }
  return value;
}

/** Where a class comes from, for messages: its module, or the worker's preloaded set. */
const where = (module: string | undefined): string => (module ? `in ${module}` : "built in");

/** Validates a class's static options once, so a bad task file fails at start-up, not at run time. */
export function describeTask(cls: TaskClass, module: string | undefined): RegisteredTask {
  const name = cls.taskName;
  if (typeof name !== "string" || name.trim() === "" || !Object.hasOwn(cls, "taskName")) {
    throw new Error(`task class ${cls.name || "(anonymous)"} has no static taskName of its own`);
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(name)) {
    throw new Error(`task name "${name}" must be 1-128 letters, digits, '.', '_', ':' or '-'`);
  }
  const retry = { ...DEFAULT_RETRY, ...cls.retry };
  if (!Number.isInteger(retry.attempts) || retry.attempts < 1) {
    throw new Error(`task "${name}": static retry.attempts must be an integer ≥ 1`);
  }
  for (const key of ["backoffMs", "maxBackoffMs"] as const) {
    if (!Number.isFinite(retry[key]) || retry[key] < 0) {
      throw new Error(`task "${name}": static retry.${key} must be a number ≥ 0`);
    }
  }
  const checkpointIntervalMs = cls.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
  if (!Number.isFinite(checkpointIntervalMs) || checkpointIntervalMs < 0) {
    throw new Error(`task "${name}": static checkpointIntervalMs must be a number ≥ 0`);
  }
  const isolation = cls.isolation ?? "worker";
  if (!TASK_ISOLATIONS.includes(isolation)) {
    throw new Error(
      `task "${name}": static isolation must be one of ${TASK_ISOLATIONS.join(", ")}, got ${String(isolation)}`,
    );
  }
  const flowCheck = checkFlowDeclarations(cls);
  if (!flowCheck.ok) {
    const problems = flowCheck.errors.map((error) => `static ${error.field} ${error.message}`).join("; ");
    throw new Error(`task "${name}": ${problems}`);
  }
  const flow = flowCheck.rules;
  const keyed = flow.rateLimit?.key != null || flow.concurrency?.kind === "key";
  const paramsCheck = cls.params ? TypeCompiler.Compile(cls.params) : undefined;
  const resultCheck = cls.result ? TypeCompiler.Compile(cls.result) : undefined;
  return {
    name,
    cls,
    module,
    retry,
    timeoutMs: positiveOrUndefined(cls.timeoutMs, "timeoutMs", name),
    concurrency: flow.concurrency?.kind === "name" ? flow.concurrency.limit : undefined,
    flow,
    resumable: cls.resumable ?? true,
    checkpointIntervalMs,
    stopGraceMs: positiveOrUndefined(cls.stopGraceMs, "stopGraceMs", name),
    isolation,
    memoryLimitMb: positiveOrUndefined(cls.memoryLimitMb, "memoryLimitMb", name),
    paramsSchema: cls.params,
    resultSchema: cls.result,
    parseParams(params: unknown): unknown {
      let value: unknown = params ?? null;
      if (paramsCheck && cls.params) {
        value = Value.Default(cls.params, structuredClone(params ?? {}));
        if (!paramsCheck.Check(value)) throw new InvalidParamsError(name, issuesOf(paramsCheck, value));
      }
      // A key function that throws or returns a non-string refuses the create like invalid params.
      if (keyed) {
        const keys = taskKeysOf(name, flow, value);
        if (!keys.ok)
          throw new InvalidParamsError(name, [{ path: "", message: keys.message }], "params", keys.message);
      }
      return value;
    },
    checkResult(result: unknown): ParamIssue[] {
      if (!resultCheck || resultCheck.Check(result)) return [];
      return issuesOf(resultCheck, result);
    },
    taskKeys(params: unknown): TaskKeys | null {
      if (!flow.rateLimit && flow.concurrency?.kind !== "key") return null;
      const keys = taskKeysOf(name, flow, params);
      // parseParams ran the key functions on these params already; one that answers otherwise
      // the second time counts the task under the name-wide key rather than failing the create.
      return keys.ok
        ? { rateKey: keys.rateKey, concurrencyKey: keys.concurrencyKey }
        : {
            rateKey: flow.rateLimit ? NAME_WIDE_KEY : null,
            concurrencyKey: flow.concurrency?.kind === "key" ? NAME_WIDE_KEY : null,
          };
    },
  };
}

/** Maps task names to classes. One per TaskManager; nothing global. */
export class TaskRegistry {
  readonly #tasks = new Map<string, RegisteredTask>();

  add(cls: unknown, module: string | undefined): RegisteredTask {
    if (!isTaskClass(cls)) throw new Error("only subclasses of BaseTask can be registered");
    const described = describeTask(cls, module);
    const existing = this.#tasks.get(described.name);
    if (existing && existing.cls !== cls) {
      throw new Error(
        `two task classes are named "${described.name}" (first ${where(existing.module)}, then ${where(module)})`,
      );
    }
    this.#tasks.set(described.name, described);
    return described;
  }

  get(name: string): RegisteredTask | undefined {
    return this.#tasks.get(name);
  }

  require(name: string): RegisteredTask {
    const found = this.#tasks.get(name);
    if (!found) throw new UnknownTaskNameError(name, this.names());
    return found;
  }

  names(): string[] {
    return [...this.#tasks.keys()].sort();
  }

  all(): RegisteredTask[] {
    return this.names().map((name) => this.#tasks.get(name) as RegisteredTask);
  }
}
