import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { KILN_FROM_SOURCE, serveKiln } from "../binary/kiln-process.ts";
import { tempDir } from "../helpers.ts";

const ADMIN = "ADMIN-Secret-7f3a9c";
const READ_ONE = "READ-Secret-one=b64==";
const READ_TWO = "READ-Secret-two-5d1e";
const WRONG = "WRONG-Secret-0c4b22";
const IN_QUERY = "QUERY-Secret-88aa";
const SECRETS = [ADMIN, READ_ONE, READ_TWO, WRONG, IN_QUERY];

const dir = tempDir("kiln-token-logs-");
afterAll(() => dir.remove());

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** `kiln serve` with these args to its exit: a configuration error ends it at once. */
async function serveFails(args: string[], env: Record<string, string>) {
  const proc = Bun.spawn([...KILN_FROM_SOURCE, "serve", "--port", "0", ...args], {
    cwd: dir.path,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: 30_000,
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, output: stdout + stderr };
}

test("no token reaches kiln serve's output at debug level: configured, presented, right or wrong", async () => {
  const kiln = await serveKiln(
    KILN_FROM_SOURCE,
    [
      "--db",
      join(dir.path, "kiln.db"),
      "--log-level",
      "debug",
      "--read-token",
      READ_ONE,
      "--read-token",
      READ_TWO,
    ],
    dir.path,
    { KILN_TOKEN: ADMIN },
  );
  let stderr = "";
  try {
    const call = (path: string, init: RequestInit = {}) => fetch(`${kiln.url}${path}`, init);
    const json = (token: string, value: unknown): RequestInit => ({
      method: "POST",
      headers: { ...bearer(token), "content-type": "application/json" },
      body: JSON.stringify(value),
    });
    const created = await call("/tasks", json(ADMIN, { name: "count", params: { to: 2, delayMs: 1 } }));
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const statuses = [
      (await call("/tasks", { headers: bearer(READ_ONE) })).status,
      (await call(`/tasks/${id}/events`, { headers: bearer(READ_TWO) })).status,
      (await call("/tasks", json(READ_ONE, { name: "count" }))).status,
      (await call(`/tasks/${id}/stop`, { method: "POST", headers: bearer(READ_TWO) })).status,
      (await call("/tasks", { headers: bearer(WRONG) })).status,
      (await call("/tasks", json(WRONG, { name: "count" }))).status,
      (await call("/tasks", { headers: { authorization: `Basic ${btoa(`kiln:${WRONG}`)}` } })).status,
      (await call(`/tasks?token=${IN_QUERY}`)).status,
    ];
    expect(statuses).toEqual([200, 200, 403, 403, 401, 401, 401, 401]);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const task = (await (await call(`/tasks/${id}`, { headers: bearer(READ_ONE) })).json()) as {
        status: string;
      };
      if (task.status === "FINISHED") break;
      await Bun.sleep(50);
    }
    expect((await call(`/tasks/${id}`, { method: "DELETE", headers: bearer(ADMIN) })).status).toBe(204);
    await kiln.waitForLine(/"msg":"task deleted"/);
  } finally {
    expect(await kiln.stop()).toBe(0);
    stderr = await new Response(kiln.proc.stderr).text();
  }
  const stdout = kiln.lines.join("\n");
  // The log did record these requests, at debug level and above, by label and address...
  expect(stdout).toContain('"msg":"request refused: read-only token"');
  expect(stdout).toContain('"actor":"read-2"');
  expect(stdout).toContain('"presented":"unknown token"');
  expect(stdout).toContain('"msg":"task deleted"');
  expect(stdout).toContain('"auth":["admin","read-1","read-2"]');
  // ...and no token, in any of them.
  for (const secret of SECRETS) {
    expect({ secret, inStdout: stdout.includes(secret), inStderr: stderr.includes(secret) }).toEqual({
      secret,
      inStdout: false,
      inStderr: false,
    });
  }
});

test("configuration errors name a token's label, never the token", async () => {
  const cases: Array<[string[], Record<string, string>]> = [
    [["--read-token", READ_ONE], {}],
    [[], { KILN_READ_TOKENS: `${READ_ONE},${READ_TWO}` }],
    [["--read-token", READ_ONE, "--read-token", ADMIN], { KILN_TOKEN: ADMIN }],
    [["--token", `${ADMIN} with space`], {}],
    [[WRONG], {}],
  ];
  for (const [args, env] of cases) {
    const { code, output } = await serveFails(args, env);
    expect(code).toBe(2);
    expect(output.trim().split("\n")).toHaveLength(1);
    for (const secret of SECRETS)
      expect({ output, leaks: output.includes(secret) }).toEqual({ output, leaks: false });
  }
});
