// Entry of `bun run bench`: runs the scenarios, prints their tables and writes
// bench/results/latest.json. Flags: --quick (smaller N, one round, completion checks rather than
// figures), --only <name>, --rounds <n> (peers), --peers <id,id,…> (peers), --out <file>.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { crossScenarioHeadlines } from "./aims.ts";
import { BINARY_SCENARIOS, buildBinary } from "./build-binary.ts";
import { controlLatency } from "./control-latency.ts";
import { firehose } from "./firehose.ts";
import { history } from "./history.ts";
import { http } from "./http.ts";
import { LagMonitor, type LagSummary, lagText } from "./lag-monitor.ts";
import { memory } from "./memory.ts";
import { nodesScenario } from "./nodes/parts.ts";
import { PEER_IDS } from "./peers/index.ts";
import { peers } from "./peers.ts";
import { search } from "./search.ts";
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
/** Run only when named with --only: they need PostgreSQL and take long (bench/nodes.ts runs the nodes scenario alone too). */
const ON_REQUEST: Scenario[] = [nodesScenario, search];
const ALL = [...SCENARIOS, ...ON_REQUEST];

interface Args {
  quick: boolean;
  only: string | undefined;
  out: string | undefined;
  rounds: number | undefined;
  systems: string[] | undefined;
}

const USAGE = `usage: bun run bench [--quick] [--only <${ALL.map((s) => s.name).join("|")}>] [--rounds <n>] [--peers <${PEER_IDS.join(",")}>] [--out <file.json>]`;

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, only: undefined, out: undefined, rounds: undefined, systems: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? arg.split("=", 2) : [arg, undefined];
    const value = () => inline ?? argv[++i] ?? fail(`${flag} needs a value`);
    if (flag === "--quick") args.quick = true;
    else if (flag === "--only") args.only = value();
    else if (flag === "--out") args.out = value();
    else if (flag === "--rounds") {
      const rounds = Number(value());
      if (!Number.isInteger(rounds) || rounds < 1) fail("--rounds must be an integer ≥ 1");
      args.rounds = rounds;
    } else if (flag === "--peers")
      args.systems = value()
        .split(",")
        .filter((id) => id !== "");
    else if (flag === "--help" || flag === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else fail(`unknown argument: ${arg}`);
  }
  if (args.only !== undefined && !ALL.some((s) => s.name === args.only)) {
    fail(`unknown scenario "${args.only}"; choose one of: ${ALL.map((s) => s.name).join(", ")}`);
  }
  const unknown = args.systems?.filter((id) => !(PEER_IDS as string[]).includes(id)) ?? [];
  if (unknown.length > 0) fail(`unknown system(s) for --peers: ${unknown.join(", ")}`);
  return args;
}

function print(result: ScenarioResult, seconds: number, benchLag: LagSummary): void {
  for (const table of result.tables) {
    console.log(`\n## ${table.title}\n`);
    console.log(formatTable(table.rows));
  }
  console.log("");
  for (const note of result.notes) console.log(`- ${note}`);
  const lags = [{ where: "bench process", lag: benchLag }, ...(result.lag ?? [])];
  console.log(
    `- Event-loop lag (p99 / max of a 5 ms timer): ${lags.map((l) => `${l.where}: ${lagText(l.lag)}`).join("; ")}.`,
  );
  console.log(`(${result.name} took ${seconds} s)`);
}

const { quick, only, out, rounds, systems } = parseArgs(Bun.argv.slice(2));
const machine = machineInfo();
console.log(
  `kiln bench${quick ? " --quick" : ""} — ${machine.cpuCount} × ${machine.cpuModel}, ${machine.totalMemoryGiB} GiB, ${machine.platform} ${machine.arch}, Bun ${machine.bunVersion}, ${machine.date}`,
);

const selected = only === undefined ? SCENARIOS : ALL.filter((s) => s.name === only);
if (selected.some((s) => BINARY_SCENARIOS.includes(s.name))) {
  const build = await buildBinary();
  console.log(
    build.ok
      ? `built dist/kiln from this checkout (${build.seconds} s)`
      : `dist/kiln could not be built, so its rows are skipped: ${build.reason}`,
  );
}

const started = performance.now();
const results: Record<string, ScenarioResult & { seconds: number }> = {};
const failures: Record<string, string> = {};
for (const scenario of selected) {
  const t0 = performance.now();
  const lag = new LagMonitor().start();
  try {
    const result = await scenario.run({ quick, rounds, systems });
    const seconds = round((performance.now() - t0) / 1000, 1);
    const benchLag = lag.stop();
    results[scenario.name] = {
      ...result,
      seconds,
      lag: [{ where: "bench process", lag: benchLag }, ...(result.lag ?? [])],
    };
    print(result, seconds, benchLag);
  } catch (error) {
    lag.stop();
    failures[scenario.name] = error instanceof Error ? (error.stack ?? error.message) : String(error);
    console.error(`\n${scenario.name} failed: ${failures[scenario.name]}`);
  }
}
const totalSeconds = round((performance.now() - started) / 1000, 1);

// A --quick run's phases are too short to measure anything: it shows the figures, judges no aim.
const headlines: (Headline & { scenario: string })[] = [
  ...Object.values(results).flatMap((r) => (r.headlines ?? []).map((h) => ({ scenario: r.name, ...h }))),
  ...crossScenarioHeadlines(results),
].map((h) => (quick ? { ...h, met: null } : h));
if (headlines.length > 0) {
  console.log("\n## against the aims\n");
  console.log(
    formatTable(
      headlines.map((h) => ({
        scenario: h.scenario,
        what: h.what,
        aim: h.aim,
        measured: h.measured,
        "aim met": h.met === null ? "-" : h.met ? "yes" : "NO",
      })),
    ),
  );
  const judged = headlines.filter((h) => h.met !== null);
  const missed = judged.filter((h) => h.met === false);
  console.log(
    judged.length > 0
      ? `\naims met: ${judged.length - missed.length} of ${judged.length}`
      : `\nno aim was judged in this run${quick ? " (--quick checks that everything completes; its figures measure nothing)" : ""}`,
  );
  for (const h of missed) console.log(`aim met: NO — ${h.scenario}: ${h.what}: ${h.measured} (aim ${h.aim})`);
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
      rounds: rounds ?? null,
      systems: systems ?? null,
      totalSeconds,
      headlines,
      scenarios: Object.fromEntries(
        Object.entries(results).map(([name, r]) => [
          name,
          { seconds: r.seconds, figures: r.figures, tables: r.tables, notes: r.notes, lag: r.lag },
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
