import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { cpSync, mkdirSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers.ts";
import { api, compiledKiln, KILN_FROM_SOURCE, type ServingKiln, serveKiln } from "./kiln-process.ts";

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
const dirs: Array<{ remove: () => void }> = [];

beforeAll(async () => {
  binary = await compiledKiln();
}, 120_000);

afterEach(async () => {
  await kiln?.stop("SIGKILL");
  kiln = undefined;
});

afterAll(() => {
  for (const dir of dirs) dir.remove();
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

test.each([
  ["the compiled binary", "binary"],
  ["kiln serve from source", "source"],
] as const)(
  "%s runs a process-isolated task in a child of itself, with --task-memory-limit",
  async (_, how) => {
    const dir = tempDir("kiln-binary-isolation-");
    dirs.push(dir);
    mkdirSync(join(dir.path, "tasks"));
    cpSync(TASK_FILE, join(dir.path, "tasks", "isolated.ts"));
    const command = how === "binary" ? binary : KILN_FROM_SOURCE;
    kiln = await serveKiln(
      command,
      ["--db", "kiln.db", "--tasks-dir", "tasks", "--task-memory-limit", "160"],
      dir.path,
    );
    const hog = await create("isolated-hog", {});
    const stepper = await create("isolated-stepper", { steps: 30 });

    // The child is the server's own executable: the binary with the hidden subcommand, or the same
    // Bun on the task-process entry of the source tree.
    const running = await task(stepper, (t) => (t.progress?.done ?? 0) >= 3);
    const logs = (await api<{ items: { message: string }[] }>(`${kiln.url}/tasks/${stepper}/logs`)).body;
    const pid = Number(logs.items.find((line) => line.message.startsWith("pid "))?.message.slice(4));
    expect(pid).not.toBe(kiln.proc.pid);
    expect(realpathSync(`/proc/${pid}/exe`)).toBe(realpathSync(`/proc/${kiln.proc.pid}/exe`));
    const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    if (how === "binary") {
      expect(realpathSync(`/proc/${pid}/exe`)).toBe(realpathSync(binary));
      expect(args).toContain("__task-process");
    } else {
      expect(args.some((arg) => arg.endsWith("src/worker/process-bundled.ts"))).toBe(true);
    }
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
  },
);
