// `bun run build` before the scenarios that launch dist/kiln (the start-up rows of "http", the
// server of "history"): a binary left from an earlier build would be measured as if it were this
// checkout's code, and a clean clone has none, which skipped those rows.
import { dirname } from "node:path";
import { runBunChild } from "./child-run.ts";
import { BINARY } from "./serve-process.ts";
import { round } from "./util.ts";

/** The scenarios that launch dist/kiln when it exists. */
export const BINARY_SCENARIOS = ["http", "history"];

/** Builds dist/kiln from this checkout; resolves how long it took, or why it failed. */
export async function buildBinary(): Promise<{ ok: true; seconds: number } | { ok: false; reason: string }> {
  const t0 = performance.now();
  const build = await runBunChild(["run", "--cwd", dirname(dirname(BINARY)), "build"]);
  if (build.code !== 0) {
    const tail = `${build.out}\n${build.err}`.trim().split("\n").slice(-5).join(" | ");
    return { ok: false, reason: `\`bun run build\` exited with code ${build.code}: ${tail}` };
  }
  return { ok: true, seconds: round((performance.now() - t0) / 1000, 1) };
}
