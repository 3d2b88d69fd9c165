// A seconds-field cron under a real `kiln serve`, killed with SIGKILL and started again: each
// fire time has exactly one task, none doubled by the restart and none lost (misfire "all"
// catches up the seconds missed while kiln was down), on SQLite and on PostgreSQL.
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { PostgresTaskStore, SqliteTaskStore, type TaskRecord, type TaskStore } from "../../src/index.ts";
import { KILN_FROM_SOURCE, type ServingKiln, serveKiln } from "../binary/kiln-process.ts";
import { tempDir } from "../helpers.ts";
import { testDatabase } from "../store/postgres/database.ts";
import { STORE_KINDS } from "../stores.ts";

const SDK = new URL("../../src/index.ts", import.meta.url).pathname;

const TASK_FILE = `import { BaseTask } from ${JSON.stringify(SDK)};
export class EverySecondTask extends BaseTask {
  static taskName = "every-second";
  static schedules = [{ id: "every-second", cron: "*/1 * * * * *", misfire: "all", backfillMs: 600000 }];
  async run() {
    return { ok: true };
  }
}
`;

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function allTasks(store: TaskStore): Promise<TaskRecord[]> {
  const tasks: TaskRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listTasks({ name: "every-second", limit: 500, cursor });
    tasks.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return tasks;
}

describe.each(STORE_KINDS)("a per-second schedule through kill -9 and restart, on %s", (kind) => {
  test("exactly one task per fire time, none lost", async () => {
    const dir = tempDir("kiln-serve-schedules-");
    cleanups.push(dir.remove);
    const tasksDir = join(dir.path, "tasks");
    await Bun.write(join(tasksDir, "every-second.ts"), TASK_FILE);
    let db = join(dir.path, "kiln.db");
    if (kind === "postgres") {
      const database = await testDatabase();
      cleanups.push(() => database.drop());
      db = database.url;
    }
    const serve = async (): Promise<ServingKiln> => {
      const server = await serveKiln(KILN_FROM_SOURCE, ["--db", db, "--tasks-dir", tasksDir], dir.path);
      cleanups.push(() => server.stop("SIGKILL"));
      return server;
    };

    const first = await serve();
    await Bun.sleep(3_500);
    expect(await first.stop("SIGKILL")).not.toBe(0);
    // Down across a few fire times.
    await Bun.sleep(2_500);
    const second = await serve();
    await Bun.sleep(3_000);
    expect(await second.stop("SIGTERM")).toBe(0);

    const store: TaskStore =
      kind === "sqlite" ? new SqliteTaskStore({ path: db }) : new PostgresTaskStore({ url: db, max: 2 });
    cleanups.push(() => store.close());
    const tasks = await allTasks(store);
    const times = tasks.map((task) => task.scheduleFireTime as number).sort((a, b) => a - b);
    expect(tasks.every((task) => task.scheduleId === "every-second")).toBe(true);
    // No fire time twice, and every second from the first to the last has its task: the
    // seconds while kiln was down were caught up once it was back.
    expect(new Set(times).size).toBe(times.length);
    const firstTime = times[0] as number;
    const last = times.at(-1) as number;
    expect(times).toEqual(
      Array.from({ length: (last - firstTime) / 1_000 + 1 }, (_, i) => firstTime + i * 1_000),
    );
    // It ran for about 6.5 s of fire times and was down for about 2.5 s of them.
    expect(times.length).toBeGreaterThanOrEqual(6);
    const fires = await store.listScheduleFires("every-second", 500);
    expect(fires.map((fire) => fire.fireTime).sort((a, b) => a - b)).toEqual(times);
    expect(fires.every((fire) => fire.taskId !== null)).toBe(true);
  }, 60_000);
});
