// Preloaded into a `kiln serve` under test (`bun --preload bench/lag-preload.ts src/cli/main.ts
// serve …`): an event-loop lag monitor on the server's own main thread, read by the benchmark
// over a second listener on 127.0.0.1 whose port it writes to $KILN_BENCH_LAG_PORT_FILE.
// GET /lag answers the LagSummary since the last `?reset=1`.
import { writeFileSync } from "node:fs";
import { LagMonitor } from "./lag-monitor.ts";

const portFile = process.env.KILN_BENCH_LAG_PORT_FILE;
if (portFile) {
  const monitor = new LagMonitor().start();
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (request) => Response.json(monitor.summary(new URL(request.url).searchParams.has("reset"))),
  });
  // The server is no reason to stay alive: kiln serve exits on SIGTERM either way.
  server.unref();
  writeFileSync(portFile, String(server.port));
}
