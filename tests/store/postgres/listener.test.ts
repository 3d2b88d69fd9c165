// The cluster's LISTEN connection after it was lost at a moment the server refused connections
// (as while PostgreSQL restarts): postgres.js tries to listen again once and gives up, so the
// connection hears nothing more; kiln's own check notices and listens on a new one.
import { afterAll, beforeAll, expect, test } from "bun:test";
import postgres from "postgres";
import type { ClusterMessage } from "../../../src/store/cluster-store.ts";
import { PostgresTaskStore } from "../../../src/store/index.ts";
import { eventually } from "../../cluster/harness.ts";
import { withDatabase } from "../../support/postgres.ts";
import { testDatabase } from "./database.ts";

let database: Awaited<ReturnType<typeof testDatabase>>;
let store: PostgresTaskStore;
let raw: postgres.Sql;

beforeAll(async () => {
  database = await testDatabase();
  store = new PostgresTaskStore({ url: database.url, max: 2 });
  await store.migrate();
  // On another database (a database cannot refuse connections from inside), one connection.
  raw = postgres(withDatabase(database.url, "postgres"), { max: 1, onnotice: () => {} });
});

afterAll(async () => {
  await raw`SELECT 1`.catch(() => undefined);
  await raw?.end({ timeout: 1 });
  await store?.close();
  await database?.drop();
});

/** The backends of this database listening (their last statement a LISTEN), not the caller's. */
async function listeningBackends(): Promise<number[]> {
  const rows = await raw<{ pid: number }[]>`
    SELECT pid FROM pg_stat_activity
    WHERE datname = ${database.name} AND query ILIKE 'listen%'`;
  return rows.map((row) => row.pid);
}

test("a LISTEN connection lost while the server refused connections is replaced, and hears again", async () => {
  const heard: ClusterMessage[] = [];
  let listens = 0;
  const unlisten = await store.cluster.listen(
    (message) => heard.push(message),
    () => {
      listens += 1;
    },
    { probeEveryMs: 200 },
  );
  try {
    await store.cluster.notify("kiln_ready", "before");
    await eventually(
      async () => (heard.some((m) => m.payload === "before") ? true : undefined),
      5_000,
      () => "not heard",
    );
    const [listening] = await listeningBackends();
    expect(listening).toBeNumber();
    const listensBefore = listens;

    await raw.unsafe(`ALTER DATABASE "${database.name}" WITH ALLOW_CONNECTIONS false`);
    try {
      await raw`SELECT pg_terminate_backend(${listening ?? 0})`;
      // postgres.js's own attempt to listen again fails now; give it the time to try and give up.
      await Bun.sleep(500);
    } finally {
      await raw.unsafe(`ALTER DATABASE "${database.name}" WITH ALLOW_CONNECTIONS true`);
    }

    // Heard again without anyone calling listen: a new LISTEN connection, and `onListen` ran.
    await eventually(
      async () => {
        await store.cluster.notify("kiln_control", "after");
        return heard.some((m) => m.payload === "after") ? true : undefined;
      },
      15_000,
      () => `nothing heard after the connection was lost; heard ${JSON.stringify(heard)}`,
      250,
    );
    expect(listens).toBeGreaterThan(listensBefore);
    const now = await listeningBackends();
    expect(now.length).toBeGreaterThan(0);
    expect(now).not.toContain(listening);
  } finally {
    await unlisten();
  }
  // Closed: its connection is gone.
  await eventually(
    async () => ((await listeningBackends()).length === 0 ? true : undefined),
    5_000,
    () => "still listening",
  );
}, 60_000);

test("notifications through the store's pool reach a listener on each channel, once", async () => {
  const heard: ClusterMessage[] = [];
  const unlisten = await store.cluster.listen(
    (message) => heard.push(message),
    () => {},
    {
      probeEveryMs: 200,
    },
  );
  try {
    await store.cluster.notify("kiln_ready", "r");
    await store.cluster.notify("kiln_control", "c");
    await store.cluster.notify("kiln_events", "e");
    await eventually(
      async () => (heard.length >= 3 ? true : undefined),
      5_000,
      () => JSON.stringify(heard),
    );
    // Through a few probe periods: the probes themselves are not passed on.
    await Bun.sleep(700);
    expect(heard).toEqual([
      { channel: "kiln_ready", payload: "r" },
      { channel: "kiln_control", payload: "c" },
      { channel: "kiln_events", payload: "e" },
    ]);
  } finally {
    await unlisten();
  }
}, 30_000);
