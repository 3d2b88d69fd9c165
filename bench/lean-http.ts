// The HTTP aims against the contract alone: kiln's server, a server that keeps only kiln's
// contract (bench/lean/http-server.ts), the same with its commits made on a writer thread instead
// of the main thread (`--writer-thread`), and the bare Elysia app, all up at
// once; each round runs the http scenario's throughput phases (bench/http-rounds.ts: POST /tasks,
// then GET /tasks/:id, on the server and on the bare app) for each of the three, the order rotated
// from round to round; then as many rounds of POST /tasks with wrk as the client
// (bench/http-wrk-rounds.ts), where the bare app reaches its own ceiling, not the fetch client's.
// Usage: bun bench/lean-http.ts [--rounds 5]
import { Server } from "./http-client.ts";
import { type ThroughputRound, throughputRounds } from "./http-rounds.ts";
import { type WrkPostRound, wrkPostRounds } from "./http-wrk-rounds.ts";
import { roundOrder } from "./peers/rounds.ts";
import { formatTable, median, type Row, round } from "./util.ts";
import { wrkMissing } from "./wrk.ts";

const SERVER_CONCURRENCY = 2;
const BARE_SCRIPT = Bun.fileURLToPath(new URL("./bare-elysia-server.ts", import.meta.url));
const LEAN_SCRIPT = Bun.fileURLToPath(new URL("./lean/http-server.ts", import.meta.url));

const roundsIndex = Bun.argv.indexOf("--rounds");
const rounds = roundsIndex >= 0 ? Number(Bun.argv[roundsIndex + 1]) : 5;
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error("usage: bun bench/lean-http.ts [--rounds 5]");
  process.exit(2);
}

const results = new Map<string, ThroughputRound[]>([
  ["kiln", []],
  ["contract alone", []],
  ["contract alone, writer thread", []],
]);
const byWrk = new Map<string, WrkPostRound[]>([...results.keys()].map((name) => [name, []]));
const wrkSkipped = wrkMissing();
await Server.with({ concurrency: SERVER_CONCURRENCY }, (kiln) =>
  Server.with({ concurrency: SERVER_CONCURRENCY, script: LEAN_SCRIPT }, (lean) =>
    Server.with(
      { concurrency: SERVER_CONCURRENCY, script: LEAN_SCRIPT, flags: ["--writer-thread"] },
      (threaded) =>
        Server.with({ concurrency: 1, script: BARE_SCRIPT }, async (bare) => {
          const subjects = (r: number) =>
            roundOrder<[string, Server]>(
              [
                ["kiln", kiln],
                ["contract alone", lean],
                ["contract alone, writer thread", threaded],
              ],
              r,
              rounds,
            );
          for (let r = 0; r < rounds; r++) {
            for (const [name, server] of subjects(r)) {
              const phases = { rounds: 1, ms: 1_500, firstWarmupMs: r === 0 ? 1_500 : 300, warmupMs: 300 };
              const [measured] = (await throughputRounds(server, bare, phases)).rounds;
              if (!measured) throw new Error(`no round measured for ${name}`);
              results.get(name)?.push(measured);
              console.error(
                `round ${r + 1}: ${name} POST ${measured.kilnCreate.requestsPerSec}/s (bare ${measured.bareCreate.requestsPerSec}), ${measured.finishedPerSecDuringPost} finished/s meanwhile; GET ${measured.kilnRead.requestsPerSec}/s (bare ${measured.bareRead.requestsPerSec})`,
              );
            }
          }
          if (wrkSkipped) return;
          for (let r = 0; r < rounds; r++) {
            for (const [name, server] of subjects(r)) {
              const [measured] = (await wrkPostRounds(server, bare, 1, 3)).rounds;
              if (!measured) throw new Error(`no wrk round measured for ${name}`);
              byWrk.get(name)?.push(measured);
              console.error(
                `wrk round ${r + 1}: ${name} POST ${measured.kiln.requestsPerSec}/s (bare ${measured.bare.requestsPerSec}), ${measured.finishedPerSec} finished/s meanwhile`,
              );
            }
          }
        }),
    ),
  ),
);

const med = (values: Array<number | null>) => round(median(values.filter((v): v is number => v !== null)), 3);
const list = (values: Array<number | null>) => values.map((v) => (v === null ? "-" : round(v, 2))).join(", ");
console.log(
  `\nThe HTTP phases on kiln and on the contract alone (its commits made on the main thread, and on a writer thread), ${rounds} rounds, Bun ${Bun.version}\n`,
);
console.log(
  formatTable(
    [...results].map(
      ([name, of]): Row => ({
        server: name,
        "POST /tasks req/s": Math.round(median(of.map((r) => r.kilnCreate.requestsPerSec))),
        "÷ bare (median)": med(of.map((r) => r.postRatio)),
        "÷ bare, per round": list(of.map((r) => r.postRatio)),
        "finished/s during POST": Math.round(median(of.map((r) => r.finishedPerSecDuringPost))),
        "GET /tasks/:id ÷ bare": med(of.map((r) => r.getRatio)),
        "GET per round": list(of.map((r) => r.getRatio)),
      }),
    ),
  ),
);
if (wrkSkipped) console.log(`\nPOST /tasks through wrk: ${wrkSkipped}`);
else {
  console.log(
    `\nPOST /tasks with wrk as the client (-t1 -c16, 3 s on each server a round, the bare app at its own ceiling), ${rounds} rounds\n`,
  );
  console.log(
    formatTable(
      [...byWrk].map(
        ([name, of]): Row => ({
          server: name,
          "POST /tasks req/s": Math.round(median(of.map((r) => r.kiln.requestsPerSec))),
          "bare req/s": Math.round(median(of.map((r) => r.bare.requestsPerSec))),
          "÷ bare (median)": med(of.map((r) => r.ratio)),
          "÷ bare, per round": list(of.map((r) => r.ratio)),
          "finished/s meanwhile": Math.round(median(of.map((r) => r.finishedPerSec))),
        }),
      ),
    ),
  );
}
process.exit(0);
