// Entry of `bun run bench`: runs the scenarios, prints their tables and writes
// bench/results/latest.json. Flags: --quick (smaller N, about a minute), --only <name>,
// --out <file> (the JSON somewhere else).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { controlLatency } from "./control-latency.ts";
import { firehose } from "./firehose.ts";
import { history } from "./history.ts";
import { http } from "./http.ts";
import { memory } from "./memory.ts";
import { peers } from "./peers.ts";
import { throughput } from "./throughput.ts";
import {
  formatTable,
  type Headline,
  machineInfo,
  round,
  type Scenario,
  type ScenarioResult,
} from "./util.ts";

const SCENARIOS: Scenario[] = [throughput, peers, controlLatency, http, firehose, history, memory];

interface Args {
  quick: boolean;
  only: string | undefined;
  out: string | undefined;
}

function parseArgs(argv: string[]): Args {
  let quick = false;
  let only: string | undefined;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--quick") quick = true;
    else if (arg === "--only") only = argv[++i];
    else if (arg?.startsWith("--only=")) only = arg.slice("--only=".length);
    else if (arg === "--out") out = argv[++i];
    else if (arg === "--help" || arg === "-h") {
      console.log(
        `usage: bun run bench [--quick] [--only <${SCENARIOS.map((s) => s.name).join("|")}>] [--out <file.json>]`,
      );
      process.exit(0);
    } else {
      console.error(`unknown argument: ${arg}`);
      process.exit(2);
    }
  }
  if (only !== undefined && !SCENARIOS.some((s) => s.name === only)) {
    console.error(`unknown scenario "${only}"; choose one of: ${SCENARIOS.map((s) => s.name).join(", ")}`);
    process.exit(2);
  }
  return { quick, only, out };
}

function print(result: ScenarioResult, seconds: number): void {
  for (const table of result.tables) {
    console.log(`\n## ${table.title}\n`);
    console.log(formatTable(table.rows));
  }
  console.log("");
  for (const note of result.notes) console.log(`- ${note}`);
  console.log(`(${result.name} took ${seconds} s)`);
}

const { quick, only, out } = parseArgs(Bun.argv.slice(2));
const machine = machineInfo();
console.log(
  `kiln bench${quick ? " --quick" : ""} — ${machine.cpuCount} × ${machine.cpuModel}, ${machine.totalMemoryGiB} GiB, ${machine.platform} ${machine.arch}, Bun ${machine.bunVersion}, ${machine.date}`,
);

const started = performance.now();
const results: Record<string, ScenarioResult & { seconds: number }> = {};
const failures: Record<string, string> = {};
for (const scenario of SCENARIOS) {
  if (only !== undefined && scenario.name !== only) continue;
  const t0 = performance.now();
  try {
    const result = await scenario.run({ quick });
    const seconds = round((performance.now() - t0) / 1000, 1);
    results[scenario.name] = { ...result, seconds };
    print(result, seconds);
  } catch (error) {
    failures[scenario.name] = error instanceof Error ? (error.stack ?? error.message) : String(error);
    console.error(`\n${scenario.name} failed: ${failures[scenario.name]}`);
  }
}
const totalSeconds = round((performance.now() - started) / 1000, 1);

const headlines: (Headline & { scenario: string })[] = Object.values(results).flatMap((r) =>
  (r.headlines ?? []).map((h) => ({ scenario: r.name, ...h })),
);
if (headlines.length > 0) {
  console.log("\n## against the aims\n");
  console.log(
    formatTable(
      headlines.map((h) => ({
        scenario: h.scenario,
        what: h.what,
        aim: h.aim,
        measured: h.measured,
        met: h.met === null ? "-" : h.met ? "yes" : "NO",
      })),
    ),
  );
}

const outFile = out ?? Bun.fileURLToPath(new URL("./results/latest.json", import.meta.url));
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(
  outFile,
  `${JSON.stringify(
    {
      machine,
      mode: quick ? "quick" : "default",
      only: only ?? null,
      totalSeconds,
      headlines,
      scenarios: Object.fromEntries(
        Object.entries(results).map(([name, r]) => [
          name,
          { seconds: r.seconds, figures: r.figures, tables: r.tables, notes: r.notes },
        ]),
      ),
      failures,
    },
    null,
    2,
  )}\n`,
);
console.log(`\nall done in ${totalSeconds} s; figures written to ${outFile}`);
process.exit(Object.keys(failures).length > 0 ? 1 : 0);
