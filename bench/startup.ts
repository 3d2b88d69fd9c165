// Start-up footprint of `kiln serve`: exec → first 200 on /health, the idle server's RSS, and
// SIGTERM → exit, from source and as the compiled binary.
import { existsSync, statSync } from "node:fs";
import { BINARY, CLI_SOURCE, ServeProcess } from "./serve-process.ts";
import { median, mib, processRssBytes, type Row, round, tempDir } from "./util.ts";

/** How long a freshly started server idles before its RSS is read. */
const SETTLE_MS = 500;

export interface StartupFigures {
  what: string;
  command: string;
  sizeMiB: number | null;
  launches: number;
  /** exec → first 200 on /health, per launch. */
  firstHealthMs: number[];
  medianFirstHealthMs: number;
  /** RSS of the idle server SETTLE_MS after its first 200 (all threads: 2 idle workers included). */
  idleRssMiB: (number | null)[];
  medianIdleRssMiB: number | null;
  /** SIGTERM → process exit, per launch. */
  exitMs: number[];
  medianExitMs: number;
}

/** Why there are no binary figures: not built, or it did not come up (its size still counts). */
export interface StartupMissing {
  reason: string;
  sizeMiB: number | null;
}

async function measure(what: string, command: string[], launches: number): Promise<StartupFigures> {
  const firstHealthMs: number[] = [];
  const idleRss: (number | null)[] = [];
  const exitMs: number[] = [];
  for (let i = 0; i < launches; i++) {
    const tmp = tempDir("startup");
    try {
      const server = await ServeProcess.launch(command, tmp.db, "/health");
      await Bun.sleep(SETTLE_MS);
      const rss = processRssBytes(server.child.pid);
      exitMs.push(round(await server.stop(), 1));
      firstHealthMs.push(round(server.firstOkMs, 1));
      idleRss.push(rss === null ? null : mib(rss));
    } finally {
      tmp.cleanup();
    }
  }
  const file = command.length === 1 ? command[0] : undefined;
  const rssValues = idleRss.filter((v): v is number => v !== null);
  return {
    what,
    command: command.join(" "),
    sizeMiB: file ? mib(statSync(file).size) : null,
    launches,
    firstHealthMs,
    medianFirstHealthMs: round(median(firstHealthMs), 1),
    idleRssMiB: idleRss,
    medianIdleRssMiB: rssValues.length > 0 ? round(median(rssValues), 1) : null,
    exitMs,
    medianExitMs: round(median(exitMs), 1),
  };
}

export async function measureStartup(
  launches: number,
): Promise<{ fromSource: StartupFigures; binary: StartupFigures | StartupMissing }> {
  const fromSource = await measure("bun src/cli/main.ts serve", [process.execPath, CLI_SOURCE], launches);
  if (!existsSync(BINARY))
    return {
      fromSource,
      binary: { reason: "skipped: dist/kiln not built (run `bun run build`)", sizeMiB: null },
    };
  try {
    return { fromSource, binary: await measure("dist/kiln serve", [BINARY], launches) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { fromSource, binary: { reason: `failed: ${message}`, sizeMiB: mib(statSync(BINARY).size) } };
  }
}

function firstLine(text: string, max: number): string {
  const line = text.split("\n", 1)[0] ?? "";
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export function startupRows(figures: {
  fromSource: StartupFigures;
  binary: StartupFigures | StartupMissing;
}) {
  const row = (f: StartupFigures): Row => ({
    what: f.what,
    "size MiB": f.sizeMiB ?? "-",
    launches: f.launches,
    "exec → 200 /health median ms": f.medianFirstHealthMs,
    "min ms": Math.min(...f.firstHealthMs),
    "max ms": Math.max(...f.firstHealthMs),
    "idle RSS MiB": f.medianIdleRssMiB ?? "-",
    "SIGTERM → exit median ms": f.medianExitMs,
  });
  const rows: Row[] = [row(figures.fromSource)];
  const binary = figures.binary;
  if ("launches" in binary) rows.push(row(binary));
  else
    rows.push({
      what: "dist/kiln serve",
      "size MiB": binary.sizeMiB ?? "-",
      launches: 0,
      "exec → 200 /health median ms": firstLine(binary.reason, 80),
      "min ms": "-",
      "max ms": "-",
      "idle RSS MiB": "-",
      "SIGTERM → exit median ms": "-",
    });
  return rows;
}
