// Fan-out of 100 children under a real `kiln serve`, killed with SIGKILL while the parent waits
// for them and started again: the parent resumes once (its history has two starts, the one that
// spawned and the one after the wait) and sees every child's result; no child is spawned twice.
// On SQLite and on PostgreSQL, over HTTP.
import { afterEach, describe, expect, test } from "bun:test";
import { api, type ServingKiln } from "../binary/kiln-process.ts";
import { STORE_KINDS } from "../stores.ts";
import { eventually, SDK, taskFileKiln } from "./serve-task-file.ts";

const CHILDREN = 100;

const TASK_FILE = `import { BaseTask } from ${JSON.stringify(SDK)};
export class ChildTask extends BaseTask {
  static taskName = "serve-child";
  async run(params) {
    await Bun.sleep(params.ms);
    return { square: params.i * params.i };
  }
}
export class ParentTask extends BaseTask {
  static taskName = "serve-parent";
  async run(params) {
    const list = Array.from({ length: params.count }, (_, i) => ({ i, ms: params.ms }));
    const ids = await this.spawn("serve-child", list);
    const outcomes = await this.waitFor(ids);
    return {
      ids,
      statuses: outcomes.map((outcome) => outcome.status),
      squares: outcomes.map((outcome) => outcome.result?.square ?? null),
    };
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
  result: { ids: string[]; statuses: string[]; squares: Array<number | null> } | null;
  waitingFor: string[];
  children: { total: number; ended: number };
}

describe.each(STORE_KINDS)("fan-in through kill -9 and restart of kiln serve, on %s", (kind) => {
  test(`a parent waiting for ${CHILDREN} children resumes once and sees every result`, async () => {
    const kiln = await taskFileKiln(kind, "kiln-serve-fan-in-", TASK_FILE, cleanups);
    const serve = () => kiln.serve(["--concurrency", "4"]);
    const shown = async (kiln: ServingKiln, id: string) =>
      (await api<ShownTask>(`${kiln.url}/tasks/${id}`)).body;

    const first = await serve();
    const created = await api<ShownTask>(`${first.url}/tasks`, {
      json: { name: "serve-parent", params: { count: CHILDREN, ms: 60 } },
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    // Killed while the parent waits and its children are still running.
    const waiting = await eventually("the parent waiting for its children", async () => {
      const task = await shown(first, id);
      return task.awaiting === "children" ? task : undefined;
    });
    expect(waiting.status).toBe("PENDING");
    expect(waiting.children.total).toBe(CHILDREN);
    expect(waiting.children.ended).toBeLessThan(CHILDREN);
    expect(await first.stop("SIGKILL")).not.toBe(0);

    const second = await serve();
    const done = await eventually(
      "the parent finished",
      async () => {
        const task = await shown(second, id);
        return task.status === "FINISHED" || task.status === "FAILED" ? task : undefined;
      },
      60_000,
    );
    expect(done.status).toBe("FINISHED");
    const result = done.result as NonNullable<ShownTask["result"]>;
    expect(result.ids).toEqual(waiting.waitingFor);
    expect(result.statuses).toEqual(Array(CHILDREN).fill("FINISHED"));
    expect(result.squares).toEqual(Array.from({ length: CHILDREN }, (_, i) => i * i));
    expect(done.children.total).toBe(CHILDREN);
    expect(done.children.ended).toBe(CHILDREN);

    const events = await api<{ items: Array<{ action: string }> }>(
      `${second.url}/tasks/${id}/events?limit=500`,
    );
    const starts = events.body.items.filter((event) => event.action === "start");
    // One run spawned and suspended before the kill; one ran after the wait. Resumed once.
    expect(starts).toHaveLength(2);
    expect(await second.stop("SIGTERM")).toBe(0);
  }, 120_000);
});
