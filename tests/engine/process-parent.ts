// A kiln that a test can SIGKILL: it runs one process-spin task and prints its child's pid.
import { silentLogger, TaskManager } from "../../src/index.ts";

const [dbPath, ms] = process.argv.slice(2);
const manager = new TaskManager({ db: dbPath ?? ":memory:", concurrency: 1, logger: silentLogger });
await manager.load(new URL("../fixtures/memory-tasks.ts", import.meta.url));
await manager.start();
manager.subscribe((event) => {
  if (event.type === "log" && event.message.startsWith("pid ")) console.log(event.message);
});
await manager.create("process-spin", { ms: Number(ms ?? 15_000) });
