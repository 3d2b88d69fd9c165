// Results, checkpoint states and log lines are capped where the worker serialises them: a 100 MB
// result used to travel to the main thread, stall /health and land in the database whole.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { kiln } from "../cli/run.ts";
import { tempDir } from "../helpers.ts";
import { ALL_OK, serveValues, type ValuesServer } from "./serve-values.ts";

/** The highest resident size the process has had (VmHWM), in MB; Linux only. */
function peakResidentMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Math.round(Number(/^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? 0) / 1024);
}

const KiB = 1024;
const MiB = 1024 * KiB;

describe("with the default caps", () => {
  const dir = tempDir("kiln-caps-");
  let server: ValuesServer;
  beforeAll(async () => {
    server = await serveValues(dir.path);
  });
  afterAll(async () => {
    await server?.stop("SIGKILL");
    dir.remove();
  });

  test.each(["value", "value-process"])(
    "%s: a 100 MB result fails the task as too large and never reaches the database",
    async (name) => {
      const task = await server.create(name, { result: { object: [["blob", { huge: 100 * MiB }]] } });
      // /health keeps answering while the task makes and refuses it.
      const latencies: number[] = [];
      let ended: Awaited<ReturnType<ValuesServer["ended"]>> | undefined;
      const ending = server.ended(task.id, 60_000).then((task) => {
        ended = task;
      });
      while (!ended) {
        const started = performance.now();
        expect((await fetch(`${server.url}/health`)).status).toBe(200);
        latencies.push(performance.now() - started);
        await Promise.race([ending, Bun.sleep(20)]);
      }
      const peakMb = peakResidentMb(server.proc.pid);
      console.log(
        `${name}: /health answered ${latencies.length} times while the 100 MB result was refused, slowest ${Math.max(...latencies).toFixed(1)} ms; the server's peak RSS so far ${peakMb} MB`,
      );
      // 896 MB when the result reached the main thread; now the worker's own copy is the most.
      expect(peakMb).toBeLessThan(640);
      expect(ended.status).toBe("FAILED");
      expect(ended.error).toEqual({
        name: "ResultTooLarge",
        message:
          "result is at least 104,857,611 bytes of JSON, over the 1,048,576-byte limit (--max-result-bytes)",
        retryable: false,
      });
      expect(await server.views(task.id)).toEqual(ALL_OK);
      expect(statSync(server.dbPath).size + statSync(`${server.dbPath}-wal`).size).toBeLessThan(16 * MiB);
    },
  );

  test("a result just under the cap is stored whole", async () => {
    // {"blob":"…"} is 11 bytes around the string.
    const task = await server.create("value", { result: { object: [["blob", { huge: MiB - 11 }]] } });
    const done = await server.ended(task.id);
    expect(done.status).toBe("FINISHED");
    expect((done.result as { blob: string }).blob.length).toBe(MiB - 11);
  });

  test("a result of many-byte characters is measured in UTF-8 bytes", async () => {
    // 400,000 characters, 1.2 MB of UTF-8: under the cap in characters, over it in bytes.
    const task = await server.create("value", { result: { huge: 400_000, char: "€" } });
    const failed = await server.ended(task.id);
    expect(failed.error?.message).toBe(
      "result is 1,200,002 bytes of JSON, over the 1,048,576-byte limit (--max-result-bytes)",
    );
  });
});

describe("with caps set by flags", () => {
  const dir = tempDir("kiln-caps-");
  let server: ValuesServer;
  beforeAll(async () => {
    server = await serveValues(dir.path, [
      "--max-result-bytes",
      String(64 * KiB),
      "--max-checkpoint-bytes",
      String(16 * KiB),
      "--max-log-line-bytes",
      "2048",
    ]);
  });
  afterAll(async () => {
    await server?.stop("SIGKILL");
    dir.remove();
  });

  test("a result over --max-result-bytes fails the task; one under it finishes", async () => {
    const over = await server.create("value", { result: { huge: 64 * KiB } });
    expect((await server.ended(over.id)).error).toMatchObject({
      name: "ResultTooLarge",
      message: "result is at least 65,538 bytes of JSON, over the 65,536-byte limit (--max-result-bytes)",
    });
    const under = await server.create("value", { result: { huge: 64 * KiB - 2 } });
    expect((await server.ended(under.id)).status).toBe("FINISHED");
  });

  test.each(["value", "value-process"])(
    "%s: a state over --max-checkpoint-bytes fails the task at that checkpoint",
    async (name) => {
      const task = await server.create(name, {
        states: [{ json: { offset: 1 } }, { object: [["seen", { huge: 20 * KiB }]] }],
      });
      const failed = await server.ended(task.id);
      expect(failed.status).toBe("FAILED");
      expect(failed.error).toMatchObject({
        name: "TaskValueError",
        message:
          "checkpoint state is at least 20,491 bytes of JSON, over the 16,384-byte limit (--max-checkpoint-bytes)",
        retryable: false,
      });
    },
  );

  test("a log line over --max-log-line-bytes is kept, cut to the limit with a marker", async () => {
    const task = await server.create("value", {
      logs: [
        { level: { json: "info" }, message: { huge: 10_000, char: "é" } },
        { level: { json: "warn" }, message: { json: "short" } },
      ],
    });
    expect((await server.ended(task.id)).status).toBe("FINISHED");
    const [long, short] = await server.logs(task.id);
    expect(Buffer.byteLength(long?.message ?? "")).toBeLessThanOrEqual(2048);
    expect(long?.message).toStartWith("éééé");
    expect(long?.message).toEndWith(
      "… [cut: the line is 20,000 bytes, over the 2,048-byte limit (--max-log-line-bytes)]",
    );
    expect(short).toMatchObject({ level: "warn", message: "short" });
  });
});

test("a cap below 1,024 bytes is a configuration error", async () => {
  for (const flag of ["--max-result-bytes", "--max-checkpoint-bytes", "--max-log-line-bytes"]) {
    const run = await kiln(["serve", flag, "100"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`kiln: ${flag} must be an integer from 1024 to 1073741824, got "100"\n`);
  }
  const env = await kiln(["serve"], { KILN_MAX_RESULT_BYTES: "12.5" });
  expect(env.stderr).toBe(
    'kiln: --max-result-bytes must be an integer from 1024 to 1073741824, got "12.5"\n',
  );
});
