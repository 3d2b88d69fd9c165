// One run of the contract alone (peer.ts) through the peers' driver, in a process of its own.
// Usage: bun bench/lean/child.ts '{"concurrency":2,"mode":"single","n":20000,"timeoutMs":90000}'
// (add "writer":"thread" for the commits made on a writer thread)
// Prints one JSON line (the peers' ChildOutput, with the main thread's CPU a task) and exits.
import { runPeer } from "../peers/child.ts";
import { WARMUP_JOBS } from "../peers/drive.ts";
import type { EnqueueMode } from "../peers/types.ts";
import { mainThreadCpuMs } from "../util.ts";
import type { LeanWriter } from "./engine.ts";
import { leanPeer } from "./peer.ts";

interface LeanRequest {
  concurrency: number;
  writer?: LeanWriter;
  mode: EnqueueMode;
  n: number;
  timeoutMs: number;
}

const raw = process.argv[2];
if (!raw) {
  console.error("usage: bun bench/lean/child.ts '<request json>'");
  process.exit(2);
}
const request = JSON.parse(raw) as LeanRequest;
const peer = leanPeer(request.concurrency, request.writer);
const main0 = mainThreadCpuMs();
const output = await runPeer(peer, request);
const main1 = mainThreadCpuMs();
// The main thread's CPU over the whole run, warm-up, setup and teardown included (10 ms ticks).
const mainThreadCpuUsPerTask =
  main0 === null || main1 === null ? null : ((main1 - main0) * 1000) / (request.n + WARMUP_JOBS);
console.log(JSON.stringify({ ...output, mainThreadCpuUsPerTask }));
process.exit(0);
