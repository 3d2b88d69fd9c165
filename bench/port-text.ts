// What a run's start and end cost the main thread on a Bun Worker's port, as objects (the
// structured clone) and as JSON text (src/worker/port-text.ts): N round trips of a `run`
// message shaped as the engine's and the worker's `finished` answer, 4 in flight, each way
// timed as the main thread's CPU per round trip (Linux) and wall time. Rounds alternate.
// Usage: bun bench/port-text.ts [--n 50000] [--rounds 5]
import { RUN_MESSAGE } from "./run-message.ts";
import { formatTable, mainThreadCpuMs, median, type Row, round } from "./util.ts";

const WORKER_SOURCE = `
const finished = (taskId) => ({ type: "finished", taskId, resultJson: "null" });
self.onmessage = (event) => {
  const data = event.data;
  if (typeof data === "string") postMessage(JSON.stringify(finished(JSON.parse(data).taskId)));
  else postMessage(finished(data.taskId));
};
`;

type Form = "objects" | "JSON text";

async function roundTrips(worker: Worker, form: Form, n: number): Promise<{ cpuUs: number; wallUs: number }> {
  let answered = 0;
  let sent = 0;
  const { promise, resolve } = Promise.withResolvers<void>();
  const send = () => {
    sent++;
    worker.postMessage(form === "objects" ? RUN_MESSAGE : JSON.stringify(RUN_MESSAGE));
  };
  worker.onmessage = (event: MessageEvent<unknown>) => {
    const data = event.data;
    const message = (typeof data === "string" ? JSON.parse(data) : data) as { taskId: string };
    if (message.taskId !== RUN_MESSAGE.taskId) throw new Error("a wrong answer");
    if (++answered === n) resolve();
    else if (sent < n) send();
  };
  const cpu0 = mainThreadCpuMs() ?? Number.NaN;
  const t0 = Bun.nanoseconds();
  for (let i = 0; i < 4; i++) send();
  await promise;
  return {
    cpuUs: round((((mainThreadCpuMs() ?? Number.NaN) - cpu0) * 1000) / n, 2),
    wallUs: round((Bun.nanoseconds() - t0) / n / 1000, 2),
  };
}

const arg = (name: string) => {
  const index = Bun.argv.indexOf(name);
  return index >= 0 ? Bun.argv[index + 1] : undefined;
};
const n = Number(arg("--n") ?? 50_000);
const rounds = Number(arg("--rounds") ?? 5);
const worker = new Worker(URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" })));
const samples: Record<Form, Array<{ cpuUs: number; wallUs: number }>> = { objects: [], "JSON text": [] };
await roundTrips(worker, "objects", 2_000);
await roundTrips(worker, "JSON text", 2_000);
for (let r = 0; r < rounds; r++) {
  for (const form of r % 2 === 0
    ? (["objects", "JSON text"] as const)
    : (["JSON text", "objects"] as const)) {
    samples[form].push(await roundTrips(worker, form, n));
  }
}
worker.terminate();
const rows: Row[] = (["objects", "JSON text"] as const).map((form) => ({
  form,
  "main-thread CPU µs per round trip": median(samples[form].map((s) => s.cpuUs)),
  "wall µs per round trip": median(samples[form].map((s) => s.wallUs)),
}));
console.log(`\n${n} run/finished round trips on one worker, 4 in flight; medians of ${rounds} rounds\n`);
console.log(formatTable(rows));
process.exit(0);
