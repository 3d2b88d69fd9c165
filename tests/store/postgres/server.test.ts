import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type postgres from "postgres";
import { DatabaseInUseError, describeFault, PostgresTaskStore } from "../../../src/store/index.ts";
import { ADVISORY_LOCKS } from "../../../src/store/postgres/advisory-locks.ts";
import { postgresFaultOf } from "../../../src/store/postgres/faults.ts";
import { MIGRATIONS } from "../../../src/store/postgres/migrations.generated.ts";
import { newTaskRow } from "../../helpers.ts";
import { rawClient, testDatabase } from "./database.ts";

let database: Awaited<ReturnType<typeof testDatabase>>;
let raw: postgres.Sql;
const stores: PostgresTaskStore[] = [];

function openStore(url = database.url): PostgresTaskStore {
  const store = new PostgresTaskStore({ url, max: 3 });
  stores.push(store);
  return store;
}

beforeAll(async () => {
  database = await testDatabase();
  raw = rawClient(database.url);
});

afterAll(async () => {
  try {
    // A store left mid-way by a failed test must not keep the database from being dropped.
    await Promise.allSettled(stores.map((store) => store.close()));
    await raw?.end({ timeout: 1 });
  } finally {
    await database?.drop();
  }
});

const created = {
  fromStatus: null,
  toStatus: "PENDING" as const,
  action: "create" as const,
  reason: null,
  actor: "test",
  source: null,
};

describe("migrate", () => {
  test("two stores migrating at the same moment apply each migration once", async () => {
    const [a, b] = [openStore(), openStore()];
    await Promise.all([a.migrate(), b.migrate(), a.migrate()]);
    const applied = await raw<{ hash: string }[]>`SELECT hash FROM drizzle.__drizzle_migrations ORDER BY id`;
    expect(applied.map((row) => row.hash)).toEqual(MIGRATIONS.map((migration) => migration.hash));
    const tables = await raw<{ name: string }[]>`
      SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`;
    expect(tables.map((row) => row.name)).toEqual([
      "leader",
      "nodes",
      "paused_task_types",
      "rate_starts",
      "schedule_fires",
      "schedules",
      "task_dependencies",
      "task_events",
      "task_logs",
      "task_params",
      "tasks",
    ]);
    await a.createTask(newTaskRow(), created);
  });

  test("waits while another session holds the migration lock", async () => {
    const holder = await raw.reserve();
    const [kind, lock] = ADVISORY_LOCKS.migrate;
    await holder.unsafe("SELECT pg_advisory_lock($1, $2)", [kind, lock]);
    let done = false;
    const migrating = openStore()
      .migrate()
      .then(() => {
        done = true;
      });
    try {
      await Bun.sleep(300);
      expect(done).toBe(false);
    } finally {
      await holder.unsafe("SELECT pg_advisory_unlock($1, $2)", [kind, lock]);
      holder.release();
    }
    await migrating;
    expect(done).toBe(true);
  });
});

describe("owner lock", () => {
  test("nodes share it; a command that needs the database alone is refused in one line while one holds it, and takes it after close", async () => {
    const first = openStore();
    const second = openStore();
    const command = openStore();
    await first.acquireOwnerLock();
    await second.acquireOwnerLock();
    const refusal = await command.acquireOwnerLock("exclusive").then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(DatabaseInUseError);
    const message = (refusal as Error).message;
    expect(message).toContain("in use by kiln: this command needs it alone");
    expect(message).toContain(database.name);
    expect(message).not.toContain("\n");
    await first.close();
    await second.close();
    await command.acquireOwnerLock("exclusive");
    // While the command holds it, a node is refused.
    const node = openStore();
    const busy = await node.acquireOwnerLock().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect((busy as Error).message).toContain("held by a kiln command that needs it alone");
    await node.close();
    await command.close();
  });
});

async function kilnConnections(): Promise<number> {
  const [row] = await raw<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity
    WHERE datname = ${database.name} AND application_name = 'kiln'`;
  return row?.n ?? -1;
}

describe("storage faults", () => {
  test("a connection killed under a transaction is a storage fault, and the next call works again", async () => {
    const store = openStore();
    await store.migrate();
    const task = await store.createTask(newTaskRow(), created);
    const failure = await store
      .transaction(async (tx) => {
        await tx.getTask(task.id);
        await raw`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = ${database.name} AND application_name = 'kiln'`;
        await Bun.sleep(50);
        return tx.getTask(task.id);
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(failure).toBeInstanceOf(Error);
    const fault = store.faultOf(failure);
    expect(fault?.cause).toBe("unreachable");
    expect(describeFault(fault as NonNullable<typeof fault>)).toContain("cannot be reached");
    // pg_terminate_backend only signals: wait until the server has closed every connection.
    for (let i = 0; i < 100 && (await kilnConnections()) > 0; i++) await Bun.sleep(20);
    expect(await kilnConnections()).toBe(0);
    expect((await store.getTask(task.id))?.id).toBe(task.id);
    // A write works again too, on a connection opened for it.
    const moved = await store.transition(
      task.id,
      ["PENDING"],
      { status: "RUNNING" },
      { ...created, action: "start" },
    );
    expect(moved?.status).toBe("RUNNING");
    // Every connection of the pool was killed; each comes back on its next use.
    for (let i = 0; i < 5; i++) expect((await store.getTask(task.id))?.id).toBe(task.id);
  });

  test("a server that cannot be reached is the storage fault `unreachable`", async () => {
    const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = listener.port;
    listener.stop(true);
    const store = openStore(`postgres://postgres:secret@127.0.0.1:${port}/kiln`);
    expect(store.location).not.toContain("secret");
    const error = await store.getTask("x").then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(store.faultOf(error)).toMatchObject({ cause: "unreachable", code: "ECONNREFUSED" });
  });

  test("SQLSTATEs: full disk, read-only, shutdown and connection classes are faults; statement errors are not", () => {
    const error = (code: string) => Object.assign(new Error(`server says ${code}`), { code });
    expect(postgresFaultOf(error("53100"))?.cause).toBe("disk_full");
    expect(postgresFaultOf(error("53300"))?.cause).toBe("unreachable");
    expect(postgresFaultOf(error("25006"))?.cause).toBe("read_only");
    for (const code of ["57P01", "57P02", "57P03", "08006", "08001", "CONNECTION_CLOSED", "ECONNRESET"]) {
      expect(postgresFaultOf(error(code))?.cause).toBe("unreachable");
    }
    for (const code of ["23505", "23514", "42P01", "22P02", "40001"]) {
      expect(postgresFaultOf(error(code))).toBeUndefined();
    }
    expect(postgresFaultOf(new Error("no code"))).toBeUndefined();
    expect(postgresFaultOf("not an error")).toBeUndefined();
  });
});
