// The heartbeat part of bench/nodes.ts: the statement with 0, 10 and 100 held runs, and idle
// nodes at the default heartbeat against a 100 ms one.
import { median, type Row, round, summarize } from "../util.ts";
import { DEFAULT_TIMINGS, type NodesArgs, type NodesPart, spread } from "./common.ts";
import { heartbeatStatements, type IdleFigures, idleNodes } from "./heartbeat.ts";

const HELD = [0, 10, 100];
const BEATS = 500;
const IDLE_WINDOW_MS = 15_000;
const IDLE_ROUNDS = 2;
const FAST_HEARTBEAT_MS = 100;

export async function heartbeatFigures(args: NodesArgs): Promise<NodesPart> {
  const statements = await heartbeatStatements(args.rounds, HELD, BEATS, (f) =>
    console.error(`heartbeat statement, ${f.held} held: median ${summarize(f.latencies).median} ms`),
  );
  const perSecond = DEFAULT_TIMINGS.heartbeatMs / 1_000;
  const rows: Row[] = HELD.map((held) => {
    const of = statements.filter((f) => f.held === held);
    const stats = summarize(of.flatMap((f) => f.latencies));
    const cpu = median(of.map((f) => f.backendCpuMsPerBeat));
    return {
      "held runs": held,
      heartbeats: stats.n,
      "p50 ms": stats.median,
      "p99 ms": stats.p99,
      "max ms": stats.max,
      "backend CPU ms/heartbeat": round(cpu, 3),
      "per node per second at 5 s: DB ms": round(stats.median / perSecond, 3),
      "backend CPU µs/s": round((cpu / perSecond) * 1_000, 0),
      "load avg": spread(
        of.map((f) => f.load ?? Number.NaN),
        2,
      ),
    };
  });
  const idle: IdleFigures[] = [];
  for (let r = 1; r <= IDLE_ROUNDS; r++)
    for (const heartbeatMs of [DEFAULT_TIMINGS.heartbeatMs, FAST_HEARTBEAT_MS]) {
      const figures = await idleNodes(r, heartbeatMs, IDLE_WINDOW_MS);
      idle.push(figures);
      console.error(`idle nodes, heartbeat ${heartbeatMs} ms: ${figures.nodeCpuPercent} % a node`);
    }
  const idleRows: Row[] = idle.map((f) => ({
    round: f.round,
    "heartbeat ms": f.heartbeatMs,
    "load avg": f.load ?? "-",
    "node CPU % of a core": f.nodeCpuPercent,
    "its backends' CPU %": f.backendCpuPercent,
    "xacts/s a node": f.transactionsPerNodePerSecond,
  }));
  const at = (ms: number) => idle.filter((f) => f.heartbeatMs === ms);
  const slow = at(DEFAULT_TIMINGS.heartbeatMs);
  const fast = at(FAST_HEARTBEAT_MS);
  const extraBeats = 1_000 / FAST_HEARTBEAT_MS - 1_000 / DEFAULT_TIMINGS.heartbeatMs;
  const diff = (pick: (f: IdleFigures) => number) => median(fast.map(pick)) - median(slow.map(pick));
  return {
    tables: [
      {
        title: `Heartbeat: the statement (store.cluster.heartbeat, ${BEATS} in a row, ${args.rounds} interleaved rounds), among 10,000 finished tasks`,
        rows,
      },
      {
        title: `Heartbeat: 2 idle \`kiln serve\` nodes for ${IDLE_WINDOW_MS / 1_000} s, heartbeat 5 s (default) against ${FAST_HEARTBEAT_MS} ms (other timings default)`,
        rows: idleRows,
      },
    ],
    notes: [
      `Idle nodes, from the difference (${extraBeats} more heartbeats a second): per heartbeat ≈ ${round((diff((f) => f.nodeCpuPercent) * 10) / extraBeats, 3)} ms node CPU, ${round((diff((f) => f.backendCpuPercent) * 10) / extraBeats, 3)} ms backend CPU, ${round(diff((f) => f.transactionsPerNodePerSecond) / extraBeats, 2)} transactions.`,
    ],
    figures: { statements, idle },
  };
}
