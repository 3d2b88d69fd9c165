import { afterAll, beforeAll, expect, test } from "bun:test";
import { cpSync, mkdirSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers.ts";
import { api, compiledKiln, type ServingKiln, serveKiln } from "./kiln-process.ts";

const TASK_FILE = new URL("./task-files/isolated.ts", import.meta.url).pathname;

interface Task {
  id: string;
  status: string;
  result: Record<string, unknown> | null;
  error: { name: string; message: string; retryable?: boolean } | null;
  progress: { done: number | null } | null;
}

let binary: string;
let kiln: ServingKiln | undefined;
const dir = tempDir("kiln-binary-isolation-");

beforeAll(async () => {
  binary = await compiledKiln();
}, 120_000);

afterAll(async () => {
  await kiln?.stop("SIGKILL");
  dir.remove();
});

async function task(id: string, until: (task: Task) => boolean): Promise<Task> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { body } = await api<Task>(`${kiln?.url}/tasks/${id}`);
    if (until(body)) return body;
    if (Date.now() > deadline) throw new Error(`task ${id} stayed ${body.status}`);
    await Bun.sleep(50);
  }
}

const create = async (name: string, params: unknown) =>
  (await api<Task>(`${kiln?.url}/tasks`, { json: { name, params } })).body.id;

test("the compiled binary runs a process-isolated task in a child of itself, with --task-memory-limit", async () => {
  mkdirSync(join(dir.path, "tasks"));
  cpSync(TASK_FILE, join(dir.path, "tasks", "isolated.ts"));
  kiln = await serveKiln(
    binary,
    ["--db", "kiln.db", "--tasks-dir", "tasks", "--task-memory-limit", "160"],
    dir.path,
  );
  const hog = await create("isolated-hog", {});
  const stepper = await create("isolated-stepper", { steps: 30 });

  // The child is this binary started with the hidden subcommand, not a Bun found on PATH.
  const running = await task(stepper, (t) => (t.progress?.done ?? 0) >= 3);
  const logs = (await api<{ items: { message: string }[] }>(`${kiln.url}/tasks/${stepper}/logs`)).body;
  const pid = Number(logs.items.find((line) => line.message.startsWith("pid "))?.message.slice(4));
  expect(pid).not.toBe(kiln.proc.pid);
  expect(realpathSync(`/proc/${pid}/exe`)).toBe(realpathSync(binary));
  expect(readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")).toContain("__task-process");
  expect(running.status).toBe("RUNNING");

  // Pause and resume over HTTP reach the child through its control messages.
  const paused = await api<{ task: Task }>(`${kiln.url}/tasks/${stepper}/pause?wait=10000`, {
    method: "POST",
  });
  expect(paused.body.task.status).toBe("PAUSED");
  expect((await api(`${kiln.url}/tasks/${stepper}/resume`, { method: "POST" })).status).toBe(200);
  const finished = await task(stepper, (t) => t.status === "FINISHED" || t.status === "FAILED");
  expect(finished.status).toBe("FINISHED");
  expect(finished.result).toEqual({ pid, resumedFrom: 0 });

  // The serve-wide cap ended the runaway on its process's resident size.
  const failed = await task(hog, (t) => t.status === "FAILED" || t.status === "FINISHED");
  expect(failed.status).toBe("FAILED");
  expect(failed.error?.name).toBe("MemoryLimitExceeded");
  expect(failed.error?.message).toMatch(
    /^memory limit exceeded: \d+ MB > 160 MB \(resident size of its process\)$/,
  );
  expect(failed.error?.retryable).toBe(false);
  expect((await api(`${kiln.url}/health`)).body).toEqual({ status: "ok" });
  expect(await kiln.stop()).toBe(0);
});
