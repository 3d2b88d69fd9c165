import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers.ts";
import { SECRET, startReceiver } from "../webhooks/receiver.ts";
import { api, compiledKiln, runKiln, type ServingKiln, serveKiln } from "./kiln-process.ts";

const TASK_FILES = new URL("./task-files/", import.meta.url).pathname;

interface Task {
  id: string;
  status: string;
  attempt: number;
  result: Record<string, unknown> | null;
  error: { message: string; retryable?: boolean } | null;
  progress: { done: number | null } | null;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

const taskIn = (
  kiln: ServingKiln,
  id: string,
  statuses: string[],
  when: (task: Task) => boolean = () => true,
) =>
  until(`task ${id} in ${statuses.join("|")}`, async () => {
    const { body } = await api<Task>(`${kiln.url}/tasks/${id}`);
    return statuses.includes(body.status) && when(body) ? body : undefined;
  });

let binary: string;
const dirs: Array<{ remove: () => void }> = [];
const running: ServingKiln[] = [];

/** An empty working directory with only the task files in ./tasks. */
function workDir(): string {
  const dir = tempDir("kiln-binary-");
  dirs.push(dir);
  mkdirSync(join(dir.path, "tasks"));
  cpSync(join(TASK_FILES, "stepper.ts"), join(dir.path, "tasks", "stepper.ts"));
  return dir.path;
}

async function serve(cwd: string, args: string[] = [], env: Record<string, string> = {}) {
  const kiln = await serveKiln(binary, ["--db", "kiln.db", "--tasks-dir", "tasks", ...args], cwd, env);
  running.push(kiln);
  return kiln;
}

beforeAll(async () => {
  binary = await compiledKiln();
}, 120_000);

afterAll(async () => {
  for (const kiln of running) await kiln.stop("SIGKILL");
  for (const dir of dirs) dir.remove();
});

describe("the compiled binary, started from an empty directory", () => {
  test("serves /health and /ready, and migrates a new database on first start", async () => {
    const cwd = workDir();
    const kiln = await serve(cwd);
    expect((await api(`${kiln.url}/health`)).body).toEqual({ status: "ok" });
    expect((await api(`${kiln.url}/ready`)).status).toBe(200);
    const db = new Database(join(cwd, "kiln.db"), { readonly: true });
    const tables = db
      .query<{ name: string }, []>("select name from sqlite_master where type = 'table' order by name")
      .all()
      .map((row) => row.name);
    db.close();
    expect(tables).toEqual(expect.arrayContaining(["tasks", "task_events", "task_logs"]));
    expect(await kiln.stop()).toBe(0);
  });

  test("serves the Swagger UI and its assets itself, and documents each task's params", async () => {
    const kiln = await serve(workDir());
    const page = await fetch(`${kiln.url}/swagger`);
    expect(page.headers.get("content-type")).toContain("text/html");
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//);
    for (const asset of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
      const response = await fetch(`${kiln.url}/${asset[1]}`);
      expect(response.status).toBe(200);
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(100);
    }
    const spec = (await api<{ paths: Record<string, Record<string, unknown>> }>(`${kiln.url}/swagger/json`))
      .body;
    const createBody = JSON.stringify(spec.paths["/tasks"]?.post);
    expect(createBody).toContain('"const":"stepper"');
    expect(createBody).toContain('"stepMs"');
    expect(createBody).toContain('"const":"copy-file"');
  });

  test("serves the dashboard with its browser bundle, built into the executable", async () => {
    const kiln = await serve(workDir());
    const page = await (await fetch(`${kiln.url}/dashboard`)).text();
    const assets = [...page.matchAll(/(?:src|href)="(dashboard\/assets\/[^"]+)"/g)].map((match) => match[1]);
    expect(assets).toHaveLength(3);
    for (const asset of assets) {
      const response = await fetch(`${kiln.url}/${asset}`);
      expect(response.status).toBe(200);
      // The icon is a small SVG; the bundle and the stylesheet are whole files.
      expect((await response.text()).length).toBeGreaterThan(asset?.includes("favicon") ? 100 : 1_000);
    }
  });

  test("runs a task file's class that extends the SDK's BaseTask, on a worker; pause and resume over HTTP", async () => {
    const kiln = await serve(workDir());
    const created = await api<Task>(`${kiln.url}/tasks`, {
      json: { name: "stepper", params: { steps: 40 } },
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    await taskIn(kiln, id, ["RUNNING"], (task) => (task.progress?.done ?? 0) >= 3);
    const paused = await api<{ task: Task }>(`${kiln.url}/tasks/${id}/pause?wait=10000`, { method: "POST" });
    expect(paused.status).toBe(200);
    expect(paused.body.task.status).toBe("PAUSED");
    const at = paused.body.task.progress?.done ?? 0;
    await Bun.sleep(300);
    expect((await api<Task>(`${kiln.url}/tasks/${id}`)).body.progress?.done).toBe(at);
    expect((await api(`${kiln.url}/tasks/${id}/resume`, { method: "POST" })).status).toBe(200);
    const finished = await taskIn(kiln, id, ["FINISHED", "FAILED"]);
    expect(finished.status).toBe("FINISHED");
    expect(finished.result).toEqual({ steps: 40, resumedFrom: 0 });
  });

  test("the SDK a task file imports is the binary's own: its UnrecoverableError is not retried", async () => {
    const cwd = workDir();
    cpSync(join(TASK_FILES, "stepper.ts"), join(cwd, "tasks", "stepper.ts"));
    const kiln = await serve(cwd);
    const { body } = await api<Task>(`${kiln.url}/tasks`, { json: { name: "give-up" } });
    const failed = await taskIn(kiln, body.id, ["FAILED", "FINISHED"]);
    expect(failed.status).toBe("FAILED");
    expect(failed.attempt).toBe(1);
    expect(failed.error?.message).toContain("nothing to retry");
  });

  test("SIGKILL, then a start on the same database: RUNNING resumes from its checkpoint, PAUSED stays PAUSED", async () => {
    const cwd = workDir();
    const first = await serve(cwd);
    const running = (
      await api<Task>(`${first.url}/tasks`, { json: { name: "stepper", params: { steps: 60 } } })
    ).body;
    const parked = (
      await api<Task>(`${first.url}/tasks`, { json: { name: "stepper", params: { steps: 60 } } })
    ).body;
    await taskIn(first, parked.id, ["RUNNING"], (task) => (task.progress?.done ?? 0) >= 2);
    expect((await api(`${first.url}/tasks/${parked.id}/pause?wait=10000`, { method: "POST" })).status).toBe(
      200,
    );
    await taskIn(first, running.id, ["RUNNING"], (task) => (task.progress?.done ?? 0) >= 10);
    first.proc.kill("SIGKILL");
    expect(await first.proc.exited).not.toBe(0);

    const second = await serve(cwd);
    const resumed = await taskIn(second, running.id, ["FINISHED", "FAILED"]);
    expect(resumed.status).toBe("FINISHED");
    expect(resumed.attempt).toBe(1);
    const resumedFrom = resumed.result?.resumedFrom as number;
    expect(resumedFrom).toBeGreaterThan(0);
    expect(resumedFrom).toBeLessThan(60);
    expect((await api<Task>(`${second.url}/tasks/${parked.id}`)).body.status).toBe("PAUSED");
    expect((await api(`${second.url}/tasks/${parked.id}/resume`, { method: "POST" })).status).toBe(200);
    const later = await taskIn(second, parked.id, ["FINISHED", "FAILED"]);
    expect(later.result?.resumedFrom as number).toBeGreaterThan(0);
  });

  test("with --token, the API needs the bearer token; probes and the Swagger page do not", async () => {
    const token = "s3cret-token-for-tests";
    const kiln = await serve(workDir(), [], { KILN_TOKEN: token });
    expect((await api(`${kiln.url}/health`)).status).toBe(200);
    expect((await fetch(`${kiln.url}/swagger`)).status).toBe(200);
    const refused = await api<{ error: { code: string } }>(`${kiln.url}/tasks`);
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe("unauthorized");
    expect((await api(`${kiln.url}/tasks`, { token: "wrong-token" })).status).toBe(401);
    expect((await api(`${kiln.url}/swagger/json`)).status).toBe(401);
    expect((await api(`${kiln.url}/tasks`, { token })).status).toBe(200);
    expect(kiln.lines.join("\n")).not.toContain(token);
  });

  test("on a non-loopback address without a token it warns", async () => {
    const kiln = await serve(workDir(), ["--host", "0.0.0.0"]);
    await kiln.waitForLine(/"level":"warn".*without a token/);
  });

  test("a task file that does not load stops start-up with one line naming the file (exit 2)", async () => {
    const cwd = workDir();
    writeFileSync(join(cwd, "tasks", "broken.ts"), "export const = ;\n");
    const result = await runKiln(
      binary,
      ["serve", "--port", "0", "--db", "kiln.db", "--tasks-dir", "tasks"],
      cwd,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("broken.ts");
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
  });

  test("a task file that repeats a name, or has no task class, stops start-up naming the file", async () => {
    const cases: Array<[string, string, string]> = [
      [
        "twice.ts",
        'import { BaseTask } from "kiln";\nexport class Again extends BaseTask { static override taskName = "stepper"; override async run() {} }\n',
        'two task classes are named "stepper"',
      ],
      ["empty.ts", "export const nothing = 1;\n", "exports no BaseTask subclass"],
    ];
    for (const [file, source, reason] of cases) {
      const cwd = workDir();
      writeFileSync(join(cwd, "tasks", file), source);
      const result = await runKiln(
        binary,
        ["serve", "--port", "0", "--db", "kiln.db", "--tasks-dir", "tasks"],
        cwd,
      );
      expect(result.code).toBe(2);
      const lines = result.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(file);
      expect(lines[0]).toContain(reason);
    }
  });

  test("a second kiln serve on the same database is refused with one clear line; the first goes on", async () => {
    const cwd = workDir();
    const first = await serve(cwd);
    const second = await runKiln(binary, ["serve", "--port", "0", "--db", "kiln.db"], cwd);
    expect(second.code).toBe(1);
    expect(second.stderr.trim()).toMatch(/^kiln: database kiln\.db is in use by another kiln process/);
    expect(second.stderr.trim().split("\n")).toHaveLength(1);
    expect((await api(`${first.url}/health`)).status).toBe(200);
  });

  test("delivers webhooks from its own delivery thread, and logs each task's transitions", async () => {
    const hook = startReceiver();
    try {
      const kiln = await serve(workDir(), ["--webhook", hook.url], { KILN_WEBHOOK_SECRET: SECRET });
      const { body } = await api<Task>(`${kiln.url}/tasks`, { json: { name: "count", params: { to: 1 } } });
      await hook.until(() => hook.accepted().length === 3);
      expect(hook.accepted().map((r) => r.type)).toEqual(["task.created", "task.started", "task.finished"]);
      expect(hook.received.every((r) => r.signatureOk && r.taskId === body.id)).toBe(true);
      await kiln.waitForLine(new RegExp(`"msg":"task finished".*"${body.id}"`));
      expect(await kiln.stop()).toBe(0);
    } finally {
      await hook.stop();
    }
  });

  test("a configuration mistake is one line and exit code 2", async () => {
    const result = await runKiln(binary, ["serve", "--port", "99999"], workDir());
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('kiln: --port must be an integer from 0 to 65535, got "99999"');
  });
});
