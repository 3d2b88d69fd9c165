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

/** A local receiver that answers 204 to every POST and counts them. */
function receiver() {
  let received = 0;
  let lastAt = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      await request.arrayBuffer();
      received++;
      lastAt = performance.now();
      return new Response(null, { status: 204 });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/hook`,
    get received() {
      return received;
    },
    get lastAt() {
      return lastAt;
    },
    stop: () => server.stop(true),
  };
}

async function run(mode: Mode, n: number, concurrency: number) {
  const tmp = tempDir(`observers-${mode}`);
  const manager = new TaskManager({ db: tmp.db, concurrency, logger: silentLogger });
  const hook = mode.includes("webhooks") ? receiver() : undefined;
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
    const sentBefore = hook?.received ?? 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < n; i += CHUNK) {
      const chunk = [];
      for (let j = i; j < Math.min(n, i + CHUNK); j++) chunk.push(manager.submit("bench-noop", null));
      await Promise.all(chunk);
      await yieldToLoop();
    }
    await done;
    const engineMs = lastAt - t0;
    const cpu = process.cpuUsage(cpu0);
    let deliveryMs: number | undefined;
    if (hook && webhooks) {
      await webhooks.idle(600_000);
      deliveryMs = hook.lastAt - t0;
    }
    return {
      mode,
      tasks: n,
      "engine ms": round(engineMs, 0),
      "tasks/s": round((n / engineMs) * 1000, 0),
      // Every thread of this process (main, workers, the receiver's server), over the engine's run.
      "CPU us/task": round((cpu.user + cpu.system) / n, 0),
      "webhook events": hook ? hook.received - sentBefore : "-",
      "all delivered ms": deliveryMs === undefined ? "-" : round(deliveryMs, 0),
      "events/s delivered":
        deliveryMs === undefined || !hook
          ? "-"
          : round(((hook.received - sentBefore) / deliveryMs) * 1000, 0),
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
