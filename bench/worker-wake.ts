// What one message to a Bun Worker costs the posting thread: posted while the worker is busy
// reading earlier ones, or posted to a worker asleep waiting for work, which is what a run's
// start meets (its worker went idle when it posted the previous run's end). The second pays for
// waking a thread on another core. The message is a start's JSON text, about 200 characters.
// Usage: bun bench/worker-wake.ts [n=20000]
import { median, round } from "./util.ts";

const n = Number(Bun.argv[2] ?? 20_000);
const worker = new Worker(new URL("./worker-wake/echo-worker.ts", import.meta.url).href);
const text = JSON.stringify({
  type: "start",
  runId: 1,
  taskId: Bun.randomUUIDv7(),
  name: "bench-noop",
  params: null,
  checkpoint: null,
  progress: null,
  attempt: 1,
});
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
await pause(200);

/** µs of the posting thread per message, posted back to back while the worker reads them. */
function busy(): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) worker.postMessage(text);
  return ((performance.now() - t0) * 1000) / n;
}

/** µs of the posting thread per message, each posted once the worker has answered the last and gone idle. */
async function idle(): Promise<number> {
  let answered = () => {};
  worker.onmessage = () => answered();
  let total = 0;
  const count = Math.min(n, 5_000);
  for (let i = 0; i < count; i++) {
    const answer = new Promise<void>((resolve) => {
      answered = resolve;
    });
    const t0 = performance.now();
    worker.postMessage("answer");
    total += performance.now() - t0;
    await answer;
  }
  return (total * 1000) / count;
}

const busyRuns: number[] = [];
const idleRuns: number[] = [];
for (let i = 0; i < 5; i++) {
  busyRuns.push(busy());
  await pause(300);
  idleRuns.push(await idle());
}
worker.terminate();
console.log(
  `postMessage of a ${text.length}-character text, µs of the posting thread per message, median of 5 (min–max):`,
);
const line = (label: string, runs: number[]) =>
  `  ${label}: ${round(median(runs), 2)} (${round(Math.min(...runs), 2)}–${round(Math.max(...runs), 2)})`;
console.log(line("to a busy worker", busyRuns));
console.log(line("to an idle worker (it must be woken)", idleRuns));
