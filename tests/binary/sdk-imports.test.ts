import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers.ts";
import { api, compiledKiln, KILN_FROM_SOURCE, runKiln, type ServingKiln, serveKiln } from "./kiln-process.ts";

const PROBE_FILE = new URL("./task-files/sdk-probe.ts", import.meta.url).pathname;

interface Probe {
  exports: string[];
  engineLoaded: boolean;
  oneSdk: boolean;
  isBaseTask: boolean;
  schema: string;
}

interface Task {
  id: string;
  status: string;
  result: Probe | null;
  error: { message: string } | null;
}

let binary: string;
const dirs: Array<{ remove: () => void }> = [];
const running: ServingKiln[] = [];

beforeAll(async () => {
  binary = await compiledKiln();
}, 120_000);

afterAll(async () => {
  for (const kiln of running) await kiln.stop("SIGKILL");
  for (const dir of dirs) dir.remove();
});

/** An empty working directory with `files` in ./tasks. */
function workDir(files: Record<string, string>): string {
  const dir = tempDir("kiln-sdk-imports-");
  dirs.push(dir);
  mkdirSync(join(dir.path, "tasks"));
  for (const [name, source] of Object.entries(files)) writeFileSync(join(dir.path, "tasks", name), source);
  return dir.path;
}

async function finished(kiln: ServingKiln, name: string): Promise<Task> {
  const created = await api<Task>(`${kiln.url}/tasks`, { json: { name } });
  expect(created.status).toBe(201);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { body } = await api<Task>(`${kiln.url}/tasks/${created.body.id}`);
    if (["FINISHED", "FAILED", "STOPPED"].includes(body.status)) return body;
    if (Date.now() > deadline) throw new Error(`task ${name} stayed ${body.status}`);
    await Bun.sleep(50);
  }
}

const variants: Array<[string, () => string | string[]]> = [
  ["the compiled binary", () => binary],
  ["kiln serve from source", () => KILN_FROM_SOURCE],
];

describe.each(variants)("%s: what a task file's imports of the SDK resolve to", (_label, command) => {
  test('"kiln", the package name and its "/task" are one copy of the SDK, without the engine, on a worker and in a task process', async () => {
    const cwd = workDir({});
    cpSync(PROBE_FILE, join(cwd, "tasks", "sdk-probe.ts"));
    const kiln = await serveKiln(command(), ["--db", "kiln.db", "--tasks-dir", "tasks"], cwd);
    running.push(kiln);
    for (const name of ["sdk-probe", "sdk-probe-process"]) {
      const task = await finished(kiln, name);
      expect({ name, status: task.status, error: task.error }).toEqual({
        name,
        status: "FINISHED",
        error: null,
      });
      const probe = task.result as Probe;
      expect(probe.engineLoaded).toBe(false);
      expect(probe.oneSdk).toBe(true);
      expect(probe.isBaseTask).toBe(true);
      expect(probe.schema).toBe("object");
      expect(probe.exports).toEqual(
        expect.arrayContaining(["BaseTask", "t", "UnrecoverableError", "TaskStopped", "TASK_STATUSES"]),
      );
      expect(probe.exports).not.toContain("TaskManager");
    }
  });

  test('a task file that imports the engine from "kiln" is refused at start-up, naming the export', async () => {
    const cwd = workDir({
      "engine.ts":
        'import { BaseTask, TaskManager } from "kiln";\nexport class UsesEngine extends BaseTask { static override taskName = "uses-engine"; override async run() { return String(TaskManager); } }\n',
    });
    const cmd = command();
    const result =
      typeof cmd === "string"
        ? await runKiln(cmd, ["serve", "--port", "0", "--db", "kiln.db", "--tasks-dir", "tasks"], cwd)
        : await runKiln(
            cmd[0] ?? "bun",
            [...cmd.slice(1), "serve", "--port", "0", "--db", "kiln.db", "--tasks-dir", "tasks"],
            cwd,
          );
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      `kiln: task file ${join(cwd, "tasks", "engine.ts")}: Export named 'TaskManager' not found in module 'kiln'.`,
    );
  });
});
