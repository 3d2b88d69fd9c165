// A quick, rough measure of what task lines and webhooks cost the engine: N no-op tasks submitted
// and run to FINISHED, once per mode, each on a fresh database. Not part of `bun run bench`.
//
//   bun bench/observers.ts [--tasks 20000] [--concurrency 4] [--modes off,lines,webhooks] > /dev/null
//
// Figures go to stderr; the task lines go to stdout (pipe it where a collector would read it).
import { createServiceLogger } from "../src/cli/log.ts";
import { StdoutLines } from "../src/cli/stdout-lines.ts";
import { logTaskTransitions, type ManagerEvent, silentLogger, TaskManager } from "../src/index.ts";
import { WebhookDispatcher } from "../src/webhooks/index.ts";
import { round, TASKS_URL, tempDir, yieldToLoop } from "./util.ts";

type Mode = "off" | "lines" | "webhooks" | "lines+webhooks";
const MODES: readonly Mode[] = ["off", "lines", "webhooks", "lines+webhooks"];
const CHUNK = 250;
const SECRET = "bench-webhook-secret-0123456789";

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}

/** The receiver, in a child process; `stats()` asks it what it took. */
async function receiver() {
  const child = Bun.spawn([process.execPath, new URL("./webhook-receiver.ts", import.meta.url).pathname], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  const port = Number(new TextDecoder().decode(value).trim());
  const base = `http://127.0.0.1:${port}`;
  return {
    url: `${base}/hook`,
    stats: async () => (await (await fetch(`${base}/stats`)).json()) as { received: number; lastAt: number },
    stop: () => child.kill(),
  };
}

async function run(mode: Mode, n: number, concurrency: number) {
  const tmp = tempDir(`observers-${mode}`);
  const manager = new TaskManager({ db: tmp.db, concurrency, logger: silentLogger });
  const hook = mode.includes("webhooks") ? await receiver() : undefined;
  const webhooks = hook
    ? new WebhookDispatcher({ urls: [hook.url], secret: SECRET, logger: silentLogger, maxQueued: 1_000_000 })
    : undefined;
  try {
    await manager.load(TASKS_URL);
    await manager.start();
    // As kiln serve logs: JSON lines gathered per turn of the event loop and written to stdout.
    const stdout = new StdoutLines();
    if (mode.includes("lines")) {
      manager.onTransition(logTaskTransitions(createServiceLogger("info", "json", stdout.write)));
    }
    webhooks?.attach(manager);
    let finished = 0;
    let lastAt = 0;
    const done = new Promise<void>((resolve) => {
      manager.subscribe((event: ManagerEvent) => {
        if (event.type !== "transition" || event.to !== "FINISHED") return;
        lastAt = performance.now();
        if (++finished === n) resolve();
      });
    });
    const cpu0 = process.cpuUsage();
    const main0 = process.threadCpuUsage();
    const t0 = performance.now();
    const wallStart = Date.now();
    for (let i = 0; i < n; i += CHUNK) {
      const chunk = [];
      for (let j = i; j < Math.min(n, i + CHUNK); j++) chunk.push(manager.submit("bench-noop", null));
      await Promise.all(chunk);
      await yieldToLoop();
    }
    await done;
    const engineMs = lastAt - t0;
    const cpu = process.cpuUsage(cpu0);
    const main = process.threadCpuUsage(main0);
    let delivered: { received: number; ms: number } | undefined;
    if (hook && webhooks) {
      await webhooks.idle(600_000);
      const { received, lastAt: lastReceivedAt } = await hook.stats();
      delivered = { received, ms: lastReceivedAt - wallStart };
    }
    return {
      mode,
      tasks: n,
      "engine ms": round(engineMs, 0),
      "tasks/s": round((n / engineMs) * 1000, 0),
      // Every thread of this process (main and workers; the receiver is another process), over the engine's run.
      "CPU us/task": round((cpu.user + cpu.system) / n, 0),
      // The engine's own thread: what task lines and webhooks take from it.
      "main thread CPU us/task": round((main.user + main.system) / n, 1),
      "webhook events": delivered?.received ?? "-",
      "all delivered ms": delivered?.ms ?? "-",
      "events/s delivered": delivered ? round((delivered.received / delivered.ms) * 1000, 0) : "-",
    };
  } finally {
    await manager.shutdown();
    await webhooks?.close(1_000);
    hook?.stop();
    tmp.cleanup();
  }
}

const n = Number(option("tasks", "20000"));
const concurrency = Number(option("concurrency", "4"));
const modes = option("modes", MODES.join(",")).split(",") as Mode[];
const rows = [];
for (const mode of modes) {
  if (!MODES.includes(mode)) throw new Error(`unknown mode ${mode}; one of ${MODES.join(", ")}`);
  rows.push(await run(mode, n, concurrency));
  console.error(JSON.stringify(rows.at(-1)));
}
console.error(`${n} no-op tasks, concurrency ${concurrency}, submit() in chunks of ${CHUNK}`);
