// The throughput part of bench/nodes.ts: interleaved rounds of 1, 2 and 3 nodes, a row per run,
// then the medians with their spread and where the CPU went.
import { median, type Row, round } from "../util.ts";
import { type NodesArgs, type NodesPart, spread } from "./common.ts";
import { type ThroughputRun, throughputRun } from "./throughput.ts";

const NODE_COUNTS = [1, 2, 3];
const CONCURRENCY = 4;
const IN_FLIGHT = 32;

export async function throughputFigures(args: NodesArgs): Promise<NodesPart> {
  const runs: ThroughputRun[] = [];
  for (let r = 1; r <= args.rounds; r++) {
    for (const nodes of NODE_COUNTS) {
      const run = await throughputRun(r, nodes, {
        tasks: args.tasks,
        concurrency: CONCURRENCY,
        inFlight: IN_FLIGHT,
      });
      runs.push(run);
      console.error(
        `throughput round ${r}, ${nodes} node(s): ${run.tasksPerSecond} tasks/s (load ${run.load})`,
      );
    }
  }
  const perTask = (ms: number, run: ThroughputRun) => round(ms / run.tasks, 2);
  const rows: Row[] = runs.map((run) => ({
    round: run.round,
    nodes: run.nodes,
    "load avg": run.load ?? "-",
    "submit s": round(run.submitMs / 1_000, 2),
    "all FINISHED s": round(run.totalMs / 1_000, 2),
    "tasks/s": run.tasksPerSecond,
    "nodes CPU ms/task": perTask(run.nodesCpuMs, run),
    "postgres CPU ms/task": perTask(run.postgresCpuMs, run),
    "bench CPU ms/task": perTask(run.benchCpuMs, run),
    "machine busy % of 2 cores":
      run.machineBusyMs === null ? "-" : round((run.machineBusyMs / run.totalMs / 2) * 100, 0),
    "xacts/task": run.transactionsPerTask,
    "finished per node": run.finishedPerNode.join(" / "),
  }));
  const base = median(runs.filter((run) => run.nodes === 1).map((run) => run.tasksPerSecond));
  const summary: Row[] = NODE_COUNTS.map((nodes) => {
    const of = runs.filter((run) => run.nodes === nodes);
    const rate = median(of.map((run) => run.tasksPerSecond));
    return {
      nodes,
      runs: of.length,
      "median tasks/s": rate,
      "spread tasks/s": spread(of.map((run) => run.tasksPerSecond)),
      "÷ 1 node": round(rate / base, 2),
      "nodes CPU ms/task": round(median(of.map((run) => run.nodesCpuMs / run.tasks)), 2),
      "postgres CPU ms/task": round(median(of.map((run) => run.postgresCpuMs / run.tasks)), 2),
      "xacts/task": round(median(of.map((run) => run.transactionsPerTask)), 1),
      "load avg": spread(
        of.map((run) => run.load ?? Number.NaN),
        2,
      ),
    };
  });
  return {
    tables: [
      {
        title: `Throughput: ${args.tasks} no-op tasks created through the nodes (round robin, ${IN_FLIGHT} POST /tasks in flight in all), --concurrency ${CONCURRENCY} a node, default timings; first request → all FINISHED`,
        rows,
      },
      { title: "Throughput: medians of the interleaved rounds", rows: summary },
    ],
    notes: [
      "xacts/task: transactions pg_stat_database counted in the run's database, per task (approximate: backends report at most once a second).",
    ],
    figures: runs,
  };
}
