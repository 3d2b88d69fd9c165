// `kiln serve` as a real child process: task lines on stdout, webhooks, the log file.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";
import { api, KILN_FROM_SOURCE, type ServingKiln, serveKiln } from "../binary/kiln-process.ts";
import { tempDir } from "../helpers.ts";
import { SECRET, startReceiver } from "../webhooks/receiver.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(
  args: string[],
  env: Record<string, string> = {},
): Promise<ServingKiln & { dir: string }> {
  const dir = tempDir("kiln-serve-observers-");
  cleanups.push(dir.remove);
  const kiln = await serveKiln(KILN_FROM_SOURCE, ["--db", join(dir.path, "kiln.db"), ...args], dir.path, env);
  cleanups.push(() => kiln.stop("SIGKILL"));
  return { ...kiln, dir: dir.path };
}

async function createTask(kiln: ServingKiln, to = 2): Promise<string> {
  const created = await api<{ id: string }>(`${kiln.url}/tasks`, {
    json: { name: "count", params: { to, delayMs: 1 } },
  });
  expect(created).toMatchObject({ status: 201 });
  return created.body.id;
}

/** SIGTERM; the exit code with stderr, so a failure shows why. */
async function stop(kiln: ServingKiln): Promise<{ code: number; stderr: string }> {
  const code = await kiln.stop("SIGTERM");
  return { code, stderr: await new Response(kiln.proc.stderr).text() };
}

/** Polls until `done` holds; fails after `timeoutMs`. */
async function until(done: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await Bun.sleep(20);
  }
}

describe("kiln serve", () => {
  test("logs a line per task transition and POSTs each to a webhook that fails its first call", async () => {
    const hook = startReceiver((_, index) => (index === 0 ? 503 : 204));
    cleanups.push(hook.stop);
    const kiln = await serve(["--webhook", hook.url], { KILN_WEBHOOK_SECRET: SECRET });
    const serving = JSON.parse(kiln.lines[0] ?? "{}") as { webhooks?: string[] };
    expect(serving.webhooks).toEqual([`1: ${new URL(hook.url).origin}`]);

    const id = await createTask(kiln);
    const finished = JSON.parse(
      await kiln.waitForLine(new RegExp(`"msg":"task finished".*"${id}"`)),
    ) as Record<string, unknown>;
    expect(finished).toMatchObject({
      level: "info",
      taskId: id,
      name: "count",
      attempt: 1,
      status: "FINISHED",
    });
    expect(finished.durationMs).toBeGreaterThanOrEqual(0);
    for (const msg of ["task created", "task started"]) {
      expect(kiln.lines.some((line) => line.includes(`"msg":"${msg}"`) && line.includes(id))).toBe(true);
    }

    // The first call failed; the retry (about a second later) and the rest arrive in order.
    await hook.until(() => hook.accepted().filter((r) => r.taskId === id).length === 3);
    expect(hook.accepted().map((r) => r.type)).toEqual(["task.created", "task.started", "task.finished"]);
    expect(hook.received[0]).toMatchObject({ answer: 503, attempt: 1, type: "task.created" });
    expect(hook.received[1]).toMatchObject({ answer: 204, attempt: 2, type: "task.created" });
    expect(hook.received.every((r) => r.signatureOk)).toBe(true);

    // The receiver logs a call before kiln has read its answer: wait for the count to catch up.
    let metrics = "";
    const ok = 'kiln_webhook_deliveries_total{webhook="1",result="ok"} 3';
    for (const deadline = Date.now() + 10_000; !metrics.includes(ok) && Date.now() < deadline; ) {
      metrics = await (await fetch(`${kiln.url}/metrics`)).text();
      if (!metrics.includes(ok)) await Bun.sleep(20);
    }
    expect(metrics).toContain(ok);
    expect(metrics).toContain('kiln_webhook_deliveries_total{webhook="1",result="failed"} 1');
    expect(await stop(kiln)).toEqual({ code: 0, stderr: "" });
  });

  test("refuses to start with a webhook and no secret", async () => {
    const dir = tempDir("kiln-serve-observers-");
    cleanups.push(dir.remove);
    const proc = Bun.spawn(
      [...KILN_FROM_SOURCE, "serve", "--port", "0", "--webhook", "https://a.example/h"],
      {
        cwd: dir.path,
        env: { PATH: process.env.PATH ?? "" },
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    expect(await proc.exited).toBe(2);
    expect(await new Response(proc.stderr).text()).toContain("webhooks need a signing secret");
  });

  test("a log file that cannot be opened stops start-up with one line", async () => {
    const dir = tempDir("kiln-serve-logfile-");
    cleanups.push(dir.remove);
    const path = join(dir.path, "missing-dir", "kiln.log");
    const proc = Bun.spawn([...KILN_FROM_SOURCE, "serve", "--port", "0", "--log-file", path], {
      cwd: dir.path,
      env: { PATH: process.env.PATH ?? "" },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await proc.exited).toBe(1);
    const stderr = (await new Response(proc.stderr).text()).trim();
    expect(stderr).toStartWith(`kiln: cannot open the log file ${path}: ENOENT`);
    expect(stderr.split("\n")).toHaveLength(1);
  });

  test("--log-file rotates at its size and keeps --log-file-backups files of whole JSON lines", async () => {
    const dir = tempDir("kiln-serve-logfile-");
    cleanups.push(dir.remove);
    const path = join(dir.path, "kiln.log");
    const kiln = await serve(["--log-file", path, "--log-file-max-bytes", "4096", "--log-file-backups", "2"]);
    const ids = [];
    for (let i = 0; i < 30; i++) ids.push(await createTask(kiln, 1));
    const last = ids.at(-1) ?? "";
    await kiln.waitForLine(new RegExp(`"msg":"task finished".*"${last}"`));
    expect(await stop(kiln)).toEqual({ code: 0, stderr: "" });
    const files = [path, `${path}.1`, `${path}.2`];
    for (const file of files) {
      expect(statSync(file).size).toBeLessThanOrEqual(4096);
      for (const line of readFileSync(file, "utf8").trimEnd().split("\n"))
        expect(() => JSON.parse(line)).not.toThrow();
    }
    expect(existsSync(`${path}.3`)).toBe(false);
    // The newest lines are in the current file, the same as on stdout.
    const current = readFileSync(path, "utf8");
    expect(current).toContain('"msg":"stopped"');
    expect(current).toContain(last);
  });

  test("--log-file-mode watched reopens the file on SIGHUP, as logrotate expects", async () => {
    const dir = tempDir("kiln-serve-logfile-");
    cleanups.push(dir.remove);
    const path = join(dir.path, "kiln.log");
    const kiln = await serve(["--log-file", path, "--log-file-mode", "watched"]);
    await until(
      () => existsSync(path) && readFileSync(path, "utf8").includes('"msg":"kiln serving"'),
      "first line",
    );
    // logrotate's move, then its signal.
    renameSync(path, `${path}.1`);
    kiln.proc.kill("SIGHUP");
    await until(() => existsSync(path), "the file opened again");
    const id = await createTask(kiln);
    await until(
      () => readFileSync(path, "utf8").includes(`"msg":"task finished"`),
      "task lines in the new file",
    );
    expect(kiln.proc.exitCode).toBeNull();
    expect(readFileSync(path, "utf8")).toContain(id);
    expect(readFileSync(`${path}.1`, "utf8")).not.toContain(id);
    expect(await stop(kiln)).toEqual({ code: 0, stderr: "" });
  });
});
