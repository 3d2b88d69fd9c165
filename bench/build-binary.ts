// `bun run build` before the scenarios that launch dist/kiln (the start-up rows of "http", the
// server of "history"): a binary left from an earlier build would be measured as if it were this
// checkout's code, and a clean clone has none, which skipped those rows.
import { dirname } from "node:path";
import { BINARY } from "./serve-process.ts";

/** The scenarios that launch dist/kiln when it exists. */
export const BINARY_SCENARIOS = ["http", "history"];

/** Builds dist/kiln from this checkout; resolves how long it took, or why it failed. */
export async function buildBinary(): Promise<{ ok: true; seconds: number } | { ok: false; reason: string }> {
  const t0 = performance.now();
  const child = Bun.spawn([process.execPath, "run", "build"], {
    cwd: dirname(dirname(BINARY)),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0) {
    const tail = `${stdout}\n${stderr}`.trim().split("\n").slice(-5).join(" | ");
    return { ok: false, reason: `\`bun run build\` exited with code ${code}: ${tail}` };
  }
  return { ok: true, seconds: Math.round((performance.now() - t0) / 100) / 10 };
}
