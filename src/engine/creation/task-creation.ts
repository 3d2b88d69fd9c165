import type { TaskRecord } from "../../store/index.ts";
import type { GuardedStore } from "../commit/storage-guard.ts";
import type { Unit } from "../commit/unit.ts";
import { InvalidParamsError, KilnError, type ParamIssue } from "../errors.ts";
import type { DependencyWatch } from "../lifecycle/dependency-watch.ts";
import { type Requester, TASK_ITSELF, type Transitions } from "../lifecycle/transitions.ts";
import type { CreateOptions, CreateResult } from "../manager-options.ts";
import type { TaskDispatch } from "../queue/task-dispatch.ts";
import type { TaskRegistry } from "../registry.ts";
import type { LiveRun } from "../runs/runs.ts";
import type { CreateBatch } from "./create-batch.ts";
import { type CheckedCreateOptions, checkCreateOptions, checkParams } from "./create-options.ts";
import {
  type CheckedDependencies,
  checkDependencyOptions,
  refuseUnknownDependencies,
} from "./dependency-options.ts";
import { replayOf } from "./idempotency.ts";
import { childContext, normalizeContext } from "./request-context.ts";

type StoredContext = { traceparent: string | null; requestId: string | null };

/**
 * Makes new tasks: a create from a caller (params checked against the name's schema, the
 * idempotency key honoured, the request context kept) and the children a running task spawns.
 * Each task is written with its history's create event and queued. The manager checks that it
 * accepts work before it asks.
 */
export class TaskCreation {
  constructor(
    private readonly registry: TaskRegistry,
    private readonly store: GuardedStore,
    private readonly transitions: Transitions,
    private readonly dispatcher: TaskDispatch,
    /** The group commit that `submit()` and spawns share. */
    private readonly creates: CreateBatch<TaskRecord>,
    private readonly dependencies: DependencyWatch,
  ) {}

  /**
   * Checks the name, options and params, replays an idempotency key already used, and writes the
   * task in this turn's group commit. Resolves once it is committed.
   */
  create(name: string, params: unknown, options: CreateOptions): Promise<CreateResult> {
    const registered = this.registry.require(name);
    const checked = checkCreateOptions(options);
    const parsed = registered.parseParams(checkParams(name, params));
    const by = { actor: options.actor ?? null, source: options.source ?? null };
    const context = normalizeContext(options.context);
    const awaited = checkDependencyOptions(options);
    if (awaited !== null) return this.#createWithDependencies(name, parsed, options, checked, awaited);
    const insert = (unit: Unit) =>
      this.#insert(unit, name, parsed, checked, options.paused === true, context, by);
    // No await before the submit, with a key or without: the create stays in its turn's commit.
    if (checked.idempotencyKey === null)
      return this.creates.submit(insert).then((task) => ({ task, created: true }));
    return this.#createWithKey(checked.idempotencyKey, name, parsed, insert);
  }

  /**
   * A create with `dependsOn`: the ids are looked up first (an unknown one is a 422), then the
   * task is written held back, with its dependencies, and decided at once in the same commit.
   */
  async #createWithDependencies(
    name: string,
    parsed: unknown,
    options: CreateOptions,
    checked: CheckedCreateOptions,
    awaited: CheckedDependencies,
  ): Promise<CreateResult> {
    const id = Bun.randomUUIDv7();
    const existing = new Set(await this.store.existingIds(awaited.ids));
    refuseUnknownDependencies(id, awaited.ids, existing);
    const by = { actor: options.actor ?? null, source: options.source ?? null };
    const context = normalizeContext(options.context);
    const insert = (unit: Unit) =>
      this.#insert(unit, name, parsed, checked, options.paused === true, context, by, null, undefined, {
        id,
        ...awaited,
      });
    if (checked.idempotencyKey === null)
      return this.creates.submit(insert).then((task) => ({ task, created: true }));
    return this.#createWithKey(checked.idempotencyKey, name, parsed, insert);
  }

  async #createWithKey(
    key: string,
    name: string,
    parsed: unknown,
    insert: (unit: Unit) => Promise<TaskRecord>,
  ): Promise<CreateResult> {
    let replayed: TaskRecord | undefined;
    // The key is looked up inside the turn's commit, in submission order, not before it: a key
    // taken earlier in the same commit is seen there, and no round trip of its own (PostgreSQL)
    // moves this create out of its turn, where the first lookup to answer, not the first
    // request, would have taken the key.
    const insertUnlessTaken = async (unit: Unit) => {
      replayed = await unit.tx.findByIdempotencyKey(key);
      return replayed ?? (await insert(unit));
    };
    try {
      const task = await this.creates.submit(insertUnlessTaken, true);
      // The same key with another name or other params is a 409, not the first task.
      return replayed
        ? { task: replayOf(replayed, key, name, parsed), created: false }
        : { task, created: true };
    } catch (error) {
      if (error instanceof KilnError) throw error;
      // Another create with the same key was committed first, outside this commit (by another
      // process, say): the key's unique index refused this one, and the first is the answer.
      const existing = await this.store.findByIdempotencyKey(key);
      if (!existing) throw error;
      return { task: replayOf(existing, key, name, parsed), created: false };
    }
  }

  /**
   * `submitMany()`: every params is checked first, so one bad item rejects the call (its index
   * in the path) and creates nothing; then all are submitted in this one synchronous loop, so
   * they share one commit and resolve once it is made.
   */
  createMany(
    name: string,
    paramsList: readonly unknown[],
    options: Omit<CreateOptions, "idempotencyKey">,
  ): Promise<CreateResult[]> {
    const registered = this.registry.require(name);
    const checked = checkCreateOptions(options);
    const parsed = paramsList.map((params, index) => {
      try {
        return registered.parseParams(checkParams(name, params));
      } catch (error) {
        if (!(error instanceof InvalidParamsError)) throw error;
        const { issues } = error.details as { issues: ParamIssue[] };
        throw new InvalidParamsError(
          name,
          issues.map((issue) => ({ path: `/${index}${issue.path}`, message: issue.message })),
        );
      }
    });
    const context = normalizeContext(options.context);
    const by = { actor: options.actor ?? null, source: options.source ?? null };
    const paused = options.paused === true;
    // One promise per task, not an async function around each as well: a bulk is thousands.
    const tasks = parsed.map((params) =>
      this.creates.submit((unit) => this.#insert(unit, name, params, checked, paused, context, by)),
    );
    return Promise.all(tasks).then((records) => records.map((task) => ({ task, created: true })));
  }

  /**
   * A running task's `this.spawn(name, paramsList)`: every child's params are checked first, as
   * `create()` checks them, so a refusal creates none; then the children are submitted in one
   * turn, so one commit writes them all (and a failed commit none), and their ids are answered
   * only once it is made. Each child records its parent and continues the parent's trace.
   *
   * A spawn replays: each child gets the idempotency key `spawnKey(…)`, made of the parent, its
   * attempt, the call's name and params and how many times this run made that same call before.
   * A run that starts again from its checkpoint (after `waitFor`, a crash, a pause that released
   * its worker) and makes the same call gets the children the earlier run made, not new ones.
   */
  async spawn(parent: LiveRun, name: string, paramsJson: string): Promise<string[]> {
    const registered = this.registry.require(name);
    const paramsList = JSON.parse(paramsJson) as unknown[];
    const checked = paramsList.map((params, index) => {
      try {
        return registered.parseParams(params);
      } catch (error) {
        if (!(error instanceof InvalidParamsError)) throw error;
        throw new KilnError("invalid_params", 422, `paramsList[${index}]: ${error.message}`, {
          index,
          ...(error.details as object),
        });
      }
    });
    const call = spawnCallKey(parent, name, paramsJson);
    const created = checked.map((params, index) => {
      const key = `${call}:${index}`;
      const options = checkCreateOptions({ idempotencyKey: key });
      return this.creates.submit(
        async (unit) =>
          (await unit.tx.findByIdempotencyKey(key)) ??
          this.#insert(
            unit,
            name,
            params,
            options,
            false,
            // A span id of its own for each child.
            childContext(parent.context),
            TASK_ITSELF,
            parent.taskId,
          ),
      );
    });
    return (await Promise.all(created)).map((task) => task.id);
  }

  /**
   * A schedule's fire: the task is checked as `create()` checks it and written in the caller's
   * unit (the transaction that records the fire), with its id given and the schedule recorded.
   */
  createForSchedule(
    unit: Unit,
    fire: { taskId: string; scheduleId: string; fireTime: number; reason: string },
    name: string,
    params: unknown,
    options: CreateOptions,
  ): Promise<TaskRecord> {
    const registered = this.registry.require(name);
    const checked = checkCreateOptions(options);
    const parsed = registered.parseParams(checkParams(name, params));
    const by = { actor: options.actor ?? null, source: options.source ?? null };
    return this.#insert(
      unit,
      name,
      parsed,
      checked,
      options.paused === true,
      normalizeContext({}),
      by,
      null,
      {
        id: fire.taskId,
        scheduleId: fire.scheduleId,
        scheduleFireTime: fire.fireTime,
        reason: fire.reason,
      },
    );
  }

  /** Writes a task whose params are already checked, with its history's create event, and queues it once committed. */
  #insert(
    unit: Unit,
    name: string,
    params: unknown,
    options: CheckedCreateOptions,
    paused: boolean,
    context: StoredContext,
    by: Requester,
    parentId: string | null = null,
    schedule?: { id: string; scheduleId: string; scheduleFireTime: number; reason: string },
    awaited?: CheckedDependencies & { id: string },
  ): Promise<TaskRecord> {
    // Only a name with a keyed limit sets the key columns: other creates keep their statement.
    const registered = this.registry.get(name);
    const keys = registered?.taskKeys(params) ?? null;
    return this.transitions
      .created(
        unit,
        {
          id: schedule?.id ?? awaited?.id ?? Bun.randomUUIDv7(),
          taskName: name,
          status: paused ? "PAUSED" : "PENDING",
          params,
          ...options,
          traceparent: context.traceparent,
          requestId: context.requestId,
          parentId,
          ...(schedule
            ? { scheduleId: schedule.scheduleId, scheduleFireTime: schedule.scheduleFireTime }
            : {}),
          ...(keys ?? {}),
          ...(awaited ? { dependencyPolicy: awaited.policy, awaiting: "dependencies" as const } : {}),
          ...(registered?.cls.searchableParams === false ? { searchableParams: false } : {}),
        },
        by,
        schedule?.reason ?? (parentId === null ? null : `spawned by task ${parentId}`),
      )
      .then((task) => {
        // Held back by its dependencies: decided now, in this commit (the watch queues it if free).
        if (awaited) return this.#holdBack(unit, task, awaited.ids);
        if (task.status === "PENDING") {
          unit.afterCommit(() => {
            this.dispatcher.enqueue(task);
            this.dispatcher.request();
          });
        }
        return task;
      });
  }

  async #holdBack(unit: Unit, task: TaskRecord, ids: readonly string[]): Promise<TaskRecord> {
    await unit.tx.addAwaited(task.id, "dependencies", ids);
    return (await this.dependencies.decide(unit, task.id, task)) ?? task;
  }
}

/**
 * The replay key of one spawn call (its children add `:<index>`): the same parent, attempt, name
 * and params JSON, made for the n-th time in a run, give the same key in every run of the
 * attempt. A new attempt (a retry, a restart) spawns new children.
 */
function spawnCallKey(parent: LiveRun, name: string, paramsJson: string): string {
  const hash = Bun.hash(`${name}\u0000${paramsJson}`).toString(36);
  const occurrence = parent.spawnCalls.get(hash) ?? 0;
  parent.spawnCalls.set(hash, occurrence + 1);
  return `spawn:${parent.taskId}:${parent.attempt}:${hash}:${occurrence}`;
}
