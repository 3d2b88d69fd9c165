import { afterAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { KILN_FROM_SOURCE, type ServingKiln, serveKiln } from "../binary/kiln-process.ts";
import { tempDir } from "../helpers.ts";
import { lines, start } from "./run.ts";

const dir = tempDir("kiln-serve-port-");
let first: ServingKiln | undefined;
afterAll(async () => {
  await first?.stop();
  dir.remove();
});

test("a second kiln serve on a port in use refuses to start, in one line, and touches nothing", async () => {
  first = await serveKiln(KILN_FROM_SOURCE, ["--db", "first.db"], dir.path);
  const port = new URL(first.url).port;
  const created = await fetch(`${first.url}/tasks`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "count", params: { to: 1, delayMs: 0 } }),
  });
  expect(created.status).toBe(201);

  const secondDb = join(dir.path, "second.db");
  const second = start(["serve", "--port", port, "--db", secondDb, "--log-format", "json"]);
  // With SO_REUSEPORT the second server would start and run until killed: give it time to
  // say "kiln serving" rather than wait forever.
  const ended = await Promise.race([second.done, Bun.sleep(20_000).then(() => undefined)]);
  if (ended === undefined) second.kill();
  const run = ended ?? (await second.done);
  expect(run.stdout).not.toContain("kiln serving");
  expect(run.code).toBe(1);
  expect(lines(run.stderr)).toEqual([
    `kiln: cannot listen on http://127.0.0.1:${port}: the address is already in use (another kiln serve?); stop it or choose another --port`,
  ]);
  // Refused before the engine opened anything.
  expect(existsSync(secondDb)).toBe(false);

  // Every request still reaches the first server and its database.
  for (let i = 0; i < 20; i++) {
    const list = (await (await fetch(`${first.url}/tasks`)).json()) as { items: unknown[] };
    expect(list.items.length).toBe(1);
  }
}, 60_000);
