// Dependencies between tasks through kill -9 of a real `kiln serve`, on SQLite and PostgreSQL:
// killed while the dependency runs, and killed right after it finished (its dependents' release
// may not be committed yet); after the restart every dependent finishes once, never having
// started before the dependency finished.
import { afterEach, describe, expect, test } from "bun:test";
import { PostgresTaskStore, SqliteTaskStore, type TaskStore } from "../../src/index.ts";
import { api, type ServingKiln } from "../binary/kiln-process.ts";
import { STORE_KINDS } from "../stores.ts";
import { eventually, SDK, taskFileKiln } from "./serve-task-file.ts";

const TASK_FILE = `import { BaseTask } from ${JSON.stringify(SDK)};
export class Slow extends BaseTask {
  static taskName = "slow";
  static checkpointIntervalMs = 0;
  async run(params) {
    for (let step = this.state?.step ?? 0; step < params.steps; step++) {
      await Bun.sleep(50);
      await this.checkpoint({ step: step + 1 });
    }
    return { steps: params.steps };
  }
}
export class After extends BaseTask {
  static taskName = "after";
  async run(params) {
    return { value: params.value };
  }
}
`;

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface ShownTask {
  id: string;
  status: string;
  awaiting: string | null;
}

describe.each(STORE_KINDS)("dependencies through kill -9 of kiln serve, on %s", (kind) => {
  test("dependents of a task killed mid-run, and of one killed just after it finished, finish once and start only after it", async () => {
    const kiln = await taskFileKiln(kind, "kiln-serve-deps-", TASK_FILE, cleanups);
    const db = kiln.db;
    const serve = () => kiln.serve();
    const create = async (kiln: ServingKiln, json: Record<string, unknown>) => {
      const created = await api<ShownTask>(`${kiln.url}/tasks`, { json });
      expect(created.status).toBe(201);
      return created.body.id;
    };
    const shown = async (kiln: ServingKiln, id: string) =>
      (await api<ShownTask>(`${kiln.url}/tasks/${id}`)).body;

    // Killed while the dependency runs.
    const first = await serve();
    const midRun = await create(first, { name: "slow", params: { steps: 40 } });
    const midRunDependents = [
      await create(first, { name: "after", params: { value: 1 }, dependsOn: [midRun] }),
      await create(first, {
        name: "after",
        params: { value: 2 },
        dependsOn: [midRun],
        onDependencyFailure: "run",
      }),
    ];
    await eventually("the dependency to run", async () =>
      (await shown(first, midRun)).status === "RUNNING" ? true : undefined,
    );
    await Bun.sleep(300);
    expect(await first.stop("SIGKILL")).not.toBe(0);

    // Killed the moment the dependency is seen FINISHED.
    const second = await serve();
    const quick = await create(second, { name: "slow", params: { steps: 4 } });
    const quickDependents: string[] = [];
    for (let i = 0; i < 5; i++) {
      quickDependents.push(await create(second, { name: "after", params: { value: i }, dependsOn: [quick] }));
    }
    await eventually("the quick dependency to finish", async () =>
      (await shown(second, quick)).status === "FINISHED" ? true : undefined,
    );
    expect(await second.stop("SIGKILL")).not.toBe(0);

    const third = await serve();
    const all = [midRun, ...midRunDependents, quick, ...quickDependents];
    await eventually("every task finished", async () => {
      for (const id of all) if ((await shown(third, id)).status !== "FINISHED") return undefined;
      return true;
    });
    expect(await third.stop("SIGTERM")).toBe(0);

    const store: TaskStore =
      kind === "sqlite" ? new SqliteTaskStore({ path: db }) : new PostgresTaskStore({ url: db, max: 2 });
    cleanups.push(() => store.close());
    const history = async (id: string) => (await store.listEvents(id, { limit: 100 })).items;
    const endOf = async (id: string) =>
      (await history(id)).findLast((e) => e.toStatus === "FINISHED")?.at ?? 0;
    for (const [dependency, dependents] of [
      [midRun, midRunDependents],
      [quick, quickDependents],
    ] as const) {
      const end = await endOf(dependency);
      for (const id of dependents) {
        const events = await history(id);
        // One finish; a run the kill interrupted starts again after the restart, as any task does.
        expect(events.filter((event) => event.toStatus === "FINISHED")).toHaveLength(1);
        const starts = events.filter((event) => event.action === "start");
        expect(starts.length).toBeGreaterThanOrEqual(1);
        for (const start of starts) expect(start.at).toBeGreaterThanOrEqual(end);
      }
    }
  }, 120_000);
});
