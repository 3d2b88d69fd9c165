// The standalone measuring tools in bench/ that `bun run bench` does not run: each completes and
// reports what it says it measures. Only the shape of the report is checked, never a figure.
import { expect, test } from "bun:test";
import { join } from "node:path";

const BENCH = join(import.meta.dir, "../../bench");

async function run(script: string, ...args: string[]): Promise<string> {
  const child = Bun.spawn(["bun", join(BENCH, script), ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  expect({ code, err: code === 0 ? "" : err }).toEqual({ code: 0, err: "" });
  return out;
}

test("wal-pages names the tables and indexes every commit of the engine wrote to", async () => {
  const out = await run("wal-pages.ts", "300", "2");
  const summary = /300 no-op tasks at concurrency 2: (\d+) commits, (\d+) pages written/.exec(out);
  expect(summary).not.toBeNull();
  const [commits, pages] = [Number(summary?.[1]), Number(summary?.[2])];
  // Every task's start and end is a commit of its own or shares one: at least one commit.
  expect(commits).toBeGreaterThan(0);
  expect(pages).toBeGreaterThanOrEqual(commits);
  // A start or an end rewrites its task's row and moves it in the status index.
  expect(out).toContain("tasks (leaf)");
  expect(out).toContain("tasks_status_id (leaf)");
  expect(out).toContain("task_events (leaf)");
}, 60_000);

test("worker-wake reports the cost of a message to a busy and to an idle worker", async () => {
  const out = await run("worker-wake.ts", "500");
  const figures = [...out.matchAll(/to an? (?:busy|idle) worker[^:]*: ([\d.]+) \(/g)].map((m) =>
    Number(m[1]),
  );
  expect(figures).toHaveLength(2);
  for (const figure of figures) expect(figure).toBeGreaterThan(0);
}, 60_000);

test("create-layers times a create through each layer, kiln's and the contract alone's", async () => {
  const out = await run("create-layers.ts", "--rounds", "3", "--n", "160");
  // The table's rows: a layer, its µs a create and their range.
  const rows = [...out.matchAll(/^(\S.*?| {2}\+ .*?)\s{2,}([\d.]+)\s{2,}[\d.]+–[\d.]+\s*$/gm)];
  expect(rows.map((m) => m[1]?.trim().split(/[: ]/)[0])).toEqual([
    "kiln",
    "kiln",
    "+",
    "+",
    "+",
    "kiln",
    "contract",
    "contract",
    "bare",
  ]);
  for (const row of rows) expect(Number(row[2])).toBeGreaterThan(0);
}, 60_000);
