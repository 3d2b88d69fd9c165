import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { untilStatus } from "../helpers.ts";
import { startServer, type TestServer } from "../http/server.ts";
import { kiln, lines } from "./run.ts";

const ADMIN = "cli-admin-token";
const READ = "cli-read-token";

let server: TestServer;
let finished: string;
let read: Record<string, string>;
beforeAll(async () => {
  server = await startServer({}, { token: ADMIN, readTokens: [READ] });
  const { task } = await server.manager.create("echo", { value: 7 }, { actor: "seed" });
  await untilStatus(server.manager, task.id, ["FINISHED"]);
  finished = task.id;
  read = { KILN_URL: server.base, KILN_TOKEN: READ };
});
afterAll(async () => {
  await server.stop();
});

describe("the CLI with a read-only token", () => {
  test("ls, show, logs and watch work", async () => {
    const ls = await kiln(["ls"], read);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toContain(finished);
    const show = await kiln(["show", finished], read);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/^status +FINISHED$/m);
    expect(show.stdout).toMatch(/created PENDING +seed +-/);
    const anonymous = await kiln(["logs", finished], { KILN_URL: server.base });
    expect(anonymous.code).toBe(1); // without any token: refused…
    expect((await kiln(["logs", finished], read)).code).toBe(0); // …with the read token: fine
    const watch = await kiln(["watch", finished], read);
    expect(watch.code).toBe(0);
    expect(watch.stdout).toContain("FINISHED");
  });

  test("submit and pause print the 403 on one line and exit 1; nothing changes", async () => {
    const before = (await server.manager.list()).items.length;
    const submit = await kiln(["submit", "echo", "--params", '{"value":1}'], read);
    const pause = await kiln(["pause", finished], read);
    for (const run of [submit, pause]) {
      expect(run.code).toBe(1);
      expect(run.stdout).toBe("");
      expect(lines(run.stderr)).toEqual([
        'kiln: the token "read-1" is read-only: it may list, read and watch tasks but not create, control or delete them (forbidden)',
      ]);
      expect(run.stderr).not.toContain(READ);
    }
    expect((await server.manager.list()).items).toHaveLength(before);
  });

  test("the admin token's changes are recorded as admin from this machine", async () => {
    const admin = { KILN_URL: server.base, KILN_TOKEN: ADMIN };
    const submit = await kiln(["submit", "echo", "--params", '{"value":2}'], admin);
    expect(submit.code).toBe(0);
    const id = submit.stdout.split(/\s/)[0] ?? "";
    await untilStatus(server.manager, id, ["FINISHED"]);
    const show = await kiln(["show", id], read);
    expect(show.stdout).toMatch(/created PENDING +admin +127\.0\.0\.1/);
  });
});
