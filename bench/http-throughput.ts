// End-to-end throughput over HTTP: N no-op tasks created with POST /tasks by a client keeping a
// fixed number of requests in flight, and run to FINISHED by the server's workers; from the first
// request to the last FINISHED transition. Part of the "throughput" scenario.

import { type LoadFigures, load, postJson, Server, waitForUsage } from "./http-client.ts";
import type { ServerUsage } from "./http-server.ts";
import { cpuPercent, machineBusyMs, round, wallClockMs } from "./util.ts";

export interface HttpRun {
  concurrency: number;
  clientConcurrency: number;
  tasks: number;
  finished: number;
  timedOut: boolean;
  /** First POST → last POST answered. */
  postMs: number;
  /** First POST → last FINISHED transition (server clock, comparable through wallClockMs()). */
  totalMs: number;
  tasksPerSec: number;
  post: LoadFigures;
  finishedInDb: number;
  warmupTasks: number;
  serverCpuPercent: number;
  clientCpuPercent: number;
  otherCpuPercent: number | null;
  storeMs: number;
  storeByMethod: Record<string, { calls: number; ms: number }>;
}

/** Store time per method between two usage snapshots of a server started with countWrites. */
function storeDelta(before: ServerUsage, after: ServerUsage) {
  const byMethod: Record<string, { calls: number; ms: number }> = {};
  let totalMs = 0;
  for (const [method, end] of Object.entries(after.store?.byMethod ?? {})) {
    const start = before.store?.byMethod[method] ?? { calls: 0, ms: 0 };
    if (end.calls === start.calls) continue;
    const ms = round(end.ms - start.ms, 1);
    byMethod[method] = { calls: end.calls - start.calls, ms };
    totalMs += ms;
  }
  return { byMethod, totalMs: round(totalMs, 1) };
}

export async function runOverHttp(
  n: number,
  concurrency: number,
  clientConcurrency: number,
  timeoutMs: number,
): Promise<HttpRun> {
  return Server.with({ concurrency, countWrites: true }, async (server) => {
    // Warm-up: every worker spawned and has imported the task module before timing starts.
    const warmup = 2 * concurrency;
    for (let i = 0; i < warmup; i++) await server.create("bench-noop");
    await waitForUsage(server, (u) => u.finishedEvents >= warmup, 30_000, "the warm-up tasks");

    const before = await server.usage();
    const machine0 = machineBusyMs();
    const cpu0 = process.cpuUsage();
    let t0 = wallClockMs();
    const post = await load(server, {
      label: "POST /tasks (bench-noop)",
      concurrency: clientConcurrency,
      warmupMs: 0,
      ms: timeoutMs,
      maxRequests: n,
      next: () => ({ path: "/tasks", init: postJson({ name: "bench-noop" }) }),
      expect: 201,
      onRecordingStart: () => {
        t0 = wallClockMs();
      },
    });
    const created = post.requests;
    let timedOut = post.requests + post.errors < n;
    let after: ServerUsage;
    try {
      const left = Math.max(1_000, timeoutMs - (wallClockMs() - t0));
      after = await waitForUsage(
        server,
        (u) => u.finishedEvents >= warmup + created,
        left,
        "tasks to finish",
      );
    } catch {
      timedOut = true;
      after = await server.usage();
    }
    const { finished: finishedInDb } = await server.usage(true);
    const cpu = process.cpuUsage(cpu0);
    const machine1 = machineBusyMs();
    const finished = after.finishedEvents - warmup;
    const totalMs = (timedOut ? wallClockMs() : after.lastFinishedAt) - t0;
    const serverMs = (after.cpuMicros - before.cpuMicros) / 1000;
    const clientMs = (cpu.user + cpu.system) / 1000;
    const store = storeDelta(before, after);
    return {
      concurrency,
      clientConcurrency,
      tasks: n,
      finished,
      timedOut,
      postMs: post.ms,
      totalMs: round(totalMs, 1),
      tasksPerSec: round((finished / totalMs) * 1000, 0),
      post,
      finishedInDb,
      warmupTasks: warmup,
      serverCpuPercent: cpuPercent(serverMs, totalMs),
      clientCpuPercent: cpuPercent(clientMs, totalMs),
      otherCpuPercent:
        machine0 === null || machine1 === null
          ? null
          : cpuPercent(Math.max(0, machine1 - machine0 - serverMs - clientMs), totalMs),
      storeMs: store.totalMs,
      storeByMethod: store.byMethod,
    };
  });
}
