// `kiln serve --durability full` opens its database with an fsync at each commit, and says so
// in its start-up line as the database connection reports it.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { tempDir } from "../helpers.ts";
import { start } from "./run.ts";

async function servingLine(
  args: string[],
  env: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const dir = tempDir("kiln-serve-durability-");
  const run = start(
    ["serve", "--port", "0", "--log-format", "json", "--db", join(dir.path, "kiln.db"), ...args],
    env,
  );
  try {
    await run.waitForOutput(/"msg":"kiln serving"/);
    const line = run
      .stdout()
      .split("\n")
      .find((l) => l.includes('"msg":"kiln serving"'));
    return JSON.parse(line ?? "{}") as Record<string, unknown>;
  } finally {
    run.kill();
    await run.done;
    dir.remove();
  }
}

test("--durability full and KILN_DURABILITY=full run on synchronous=FULL; the default on NORMAL", async () => {
  expect((await servingLine(["--durability", "full"])).durability).toBe("full (synchronous=FULL)");
  expect((await servingLine([], { KILN_DURABILITY: "full" })).durability).toBe("full (synchronous=FULL)");
  expect((await servingLine([])).durability).toBe("normal (synchronous=NORMAL)");
}, 60_000);
