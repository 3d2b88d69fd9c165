// The failover part of bench/nodes.ts: SIGKILL trials with the default timings and with short
// ones, interleaved, each against the documented worst case (lease + rescue + claim poll).
import type { LeaseSettings } from "../../tests/cluster/harness.ts";
import { median, type Row, round } from "../util.ts";
import { DEFAULT_TIMINGS, type NodesArgs, type NodesPart, spread } from "./common.ts";
import { type FailoverTrial, failoverTrial } from "./failover.ts";

const TIMINGS: Record<FailoverTrial["timings"], LeaseSettings> = {
  default: DEFAULT_TIMINGS,
  short: { leaseMs: 3_000, heartbeatMs: 1_000, rescueMs: 1_000, claimPollMs: 1_000 },
};

const bound = (lease: LeaseSettings) => lease.leaseMs + lease.rescueMs + lease.claimPollMs;
const s = (ms: number) => round(ms / 1_000, 2);

export async function failoverFigures(args: NodesArgs): Promise<NodesPart> {
  const trials: FailoverTrial[] = [];
  for (let t = 1; t <= args.trials; t++) {
    for (const timings of ["default", "short"] as const) {
      const trial = await failoverTrial(timings, t, TIMINGS[timings]);
      trials.push(trial);
      console.error(
        `failover ${timings} trial ${t}: running elsewhere after ${trial.tasks.map((task) => task.claimedMs).join(", ")} ms (load ${trial.load})`,
      );
    }
  }
  const rows: Row[] = trials.flatMap((trial) =>
    trial.tasks.map((task, i) => ({
      timings: trial.timings,
      trial: trial.trial,
      task: i + 1,
      "load avg": trial.load ?? "-",
      "last heartbeat s before": s(trial.heartbeatAgeMs),
      "lease ends s": s(task.leaseEndsMs),
      "rescued s": s(task.rescuedMs),
      "RUNNING elsewhere s": s(task.claimedMs),
      "code running s": s(task.codeMs),
      "resumed from step": task.resumedFrom,
    })),
  );
  const summary: Row[] = (["default", "short"] as const).map((timings) => {
    const lease = TIMINGS[timings];
    const tasks = trials.filter((trial) => trial.timings === timings).flatMap((trial) => trial.tasks);
    const claimed = tasks.map((task) => task.claimedMs);
    const afterLease = tasks.map((task) => task.rescuedMs - task.leaseEndsMs);
    const worst = Math.max(...claimed);
    return {
      timings: `${timings} (lease ${s(lease.leaseMs)} s, heartbeat ${s(lease.heartbeatMs)} s, rescue ${s(lease.rescueMs)} s, claim poll ${s(lease.claimPollMs)} s)`,
      tasks: tasks.length,
      "median s": s(median(claimed)),
      "max s": s(worst),
      "min s": s(Math.min(...claimed)),
      "lease end → rescued s (median, range)": `${s(median(afterLease))} (${spread(
        afterLease.map((ms) => ms / 1_000),
        2,
      )})`,
      "bound s": s(bound(lease)),
      "within bound": worst <= bound(lease) ? "yes" : "NO",
    };
  });
  return {
    tables: [
      {
        title:
          "Failover: 3 nodes (--concurrency 3), 2 `steps` tasks (checkpoint every 100 ms) on the victim, SIGKILL at a random point of its heartbeat cycle; times from the kill",
        rows,
      },
      {
        title: "Failover: kill → RUNNING on another node, against lease + rescue + claim poll",
        rows: summary,
      },
    ],
    notes: [
      "lease ends: the task's lease_expires_at read just before the kill; rescued: no longer RUNNING on the victim; RUNNING elsewhere: its node column names another node (the database watched every 20 ms); code running: the first record row of its new run.",
    ],
    figures: trials,
  };
}
