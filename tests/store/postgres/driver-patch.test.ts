// What kiln's patch of postgres.js 3.4.9 (patches/postgres@3.4.9.patch) must hold when the server
// ends a connection (pg_terminate_backend, as a restart does): the driver fails what was in flight
// on it, opens it again for other work without carrying anything over, and a transaction that was
// on it sends nothing more, on any connection. Unpatched, end() waited for its full timeout here,
// and a transaction's later statements went out on the reopened connection, outside any
// transaction (so they were committed), while its COMMIT could end another transaction.
import { afterAll, beforeAll, expect, test } from "bun:test";
import postgres from "postgres";
import { reconnectDelaySeconds } from "../../../src/store/postgres/client.ts";
import { rawClient, testDatabase } from "./database.ts";

let database: Awaited<ReturnType<typeof testDatabase>>;
let admin: postgres.Sql;

beforeAll(async () => {
  database = await testDatabase();
  admin = rawClient(database.url);
  await admin`CREATE TABLE written (tag text NOT NULL)`;
});

afterAll(async () => {
  await admin?.end({ timeout: 1 });
  await database?.drop();
});

/** A pool of one connection, so that the next query opens again the very connection that was ended. */
function onePool(): postgres.Sql {
  return postgres(database.url, { max: 1, onnotice: () => {}, backoff: reconnectDelaySeconds });
}

async function terminate(pid: number): Promise<void> {
  await admin`SELECT pg_terminate_backend(${pid})`;
}

test("a transaction whose connection was ended sends nothing more, although the connection is opened again for other work", async () => {
  const sql = onePool();
  try {
    let pid = 0;
    let resume = () => {};
    const paused = new Promise<void>((resolve) => {
      resume = resolve;
    });
    let begun = false;
    const late: { insert?: unknown } = {};
    const transaction = sql
      .begin(async (tx) => {
        [{ pid }] = (await tx`SELECT pg_backend_pid() AS pid`) as unknown as [{ pid: number }];
        await tx`INSERT INTO written VALUES ('before the cut')`;
        begun = true;
        await paused;
        // The callback goes on after its connection was ended: this must not reach the server.
        try {
          await tx`INSERT INTO written VALUES ('after the cut')`;
        } catch (error) {
          late.insert = error;
          throw error;
        }
      })
      .then(
        () => "committed",
        (error: unknown) => (error as { code?: string }).code ?? String(error),
      );
    while (!begun) await Bun.sleep(5);

    await terminate(pid);
    // The pool's one connection is opened again for this query, and answers it.
    const [{ answer }] = (await retry(() => sql`SELECT 42 AS answer`)) as unknown as [{ answer: number }];
    expect(answer).toBe(42);
    expect(await transaction).toBe("CONNECTION_CLOSED");

    resume();
    await Bun.sleep(200);
    expect((late.insert as { code?: string } | undefined)?.code).toBe("CONNECTION_CLOSED");
    // Neither insert is in the table: the first was rolled back with its session, the second never sent.
    const rows = await admin`SELECT tag FROM written`;
    expect(rows.map((row) => row.tag)).toEqual([]);
    // The connection still answers, in order, with its own answers.
    const answers = await Promise.all([1, 2, 3].map((n) => sql`SELECT ${n}::int AS n`));
    expect(answers.map(([row]) => row?.n)).toEqual([1, 2, 3]);
  } finally {
    await sql.end({ timeout: 1 });
  }
});

test("end() returns at once after the server ended a connection with a statement in flight", async () => {
  const sql = onePool();
  const [{ pid }] = (await sql`SELECT pg_backend_pid() AS pid`) as unknown as [{ pid: number }];
  const inFlight = sql`SELECT pg_sleep(30)`.then(
    () => "answered",
    (error: unknown) => (error as { code?: string }).code ?? String(error),
  );
  await Bun.sleep(100);
  await terminate(pid);
  // The driver reports the in-flight statement's loss as the server's message or as a closed connection.
  expect(["57P01", "CONNECTION_CLOSED"]).toContain(await inFlight);
  const startedAt = performance.now();
  await sql.end({ timeout: 10 });
  // Unpatched, this took the whole timeout (10 s): the failed statement kept the connection busy.
  expect(performance.now() - startedAt).toBeLessThan(5_000);
});

/** Sends a read once more when the first try found its connection gone (kiln's reads do the same). */
async function retry<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== "CONNECTION_CLOSED" && code !== "57P01" && code !== "ECONNRESET") throw error;
    return read();
  }
}
