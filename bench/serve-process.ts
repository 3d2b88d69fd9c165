// `kiln serve` as a child process, timed from exec to its first 200 on a probe: the start-up
// figures of the "http" scenario and the server of the "history" scenario.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, HOST, type LoadTarget } from "./http-client.ts";
import type { LagSummary } from "./lag-monitor.ts";
import { processCpuMicros, tempDir } from "./util.ts";

const START_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 10_000;

export const CLI_SOURCE = Bun.fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));
export const BINARY = Bun.fileURLToPath(new URL("../dist/kiln", import.meta.url));
const LAG_PRELOAD = Bun.fileURLToPath(new URL("./lag-preload.ts", import.meta.url));

/**
 * `kiln serve` from source with an event-loop lag monitor preloaded into its main thread
 * (bench/lag-preload.ts); a compiled binary takes no preload.
 */
export const MONITORED_CLI = [process.execPath, "--preload", LAG_PRELOAD, CLI_SOURCE];
export class ServeProcess implements LoadTarget {
  private constructor(
    readonly child: Bun.Subprocess<"ignore", "ignore", "pipe">,
    readonly base: string,
    /** exec → first 200 on the probe, in ms. */
    readonly firstOkMs: number,
    /** The preloaded lag monitor's listener, when the command has one. */
    private readonly lagBase: string | undefined,
  ) {}

  /**
   * Execs `command serve` on `db` and a free port and polls `probe` every ~2 ms until it
   * answers 200. `extraArgs` go after the serve flags.
   */
  static async launch(command: string[], db: string, probe: string, extraArgs: string[] = []) {
    const port = await freePort();
    const lagDir = command.includes(LAG_PRELOAD) ? tempDir("lag") : undefined;
    const lagPortFile = lagDir ? join(lagDir.dir, "port") : undefined;
    const t0 = performance.now();
    const child = Bun.spawn(
      [...command, "serve", "--host", HOST, "--port", String(port), "--db", db, ...extraArgs],
      {
        stdin: "ignore",
        stdout: "ignore",
        stderr: "pipe",
        env: { ...process.env, ...(lagPortFile ? { KILN_BENCH_LAG_PORT_FILE: lagPortFile } : {}) },
      },
    );
    // Read to the end either way, so the child can never block on a full pipe.
    const stderr = new Response(child.stderr).text();
    const base = `http://${HOST}:${port}`;
    try {
      for (;;) {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`${command.join(" ")} exited before serving: ${(await stderr).trim()}`);
        }
        if (performance.now() - t0 > START_TIMEOUT_MS)
          throw new Error(`no 200 on ${probe} after ${START_TIMEOUT_MS} ms`);
        try {
          const response = await fetch(`${base}${probe}`);
          await response.arrayBuffer();
          if (response.status === 200) break;
        } catch {
          // Not listening yet: connection refused.
        }
        await Bun.sleep(2);
      }
    } catch (error) {
      child.kill("SIGKILL");
      await child.exited;
      lagDir?.cleanup();
      throw error;
    }
    const firstOkMs = performance.now() - t0;
    let lagBase: string | undefined;
    if (lagDir && lagPortFile) {
      lagBase = `http://${HOST}:${readFileSync(lagPortFile, "utf8").trim()}`;
      lagDir.cleanup();
    }
    return new ServeProcess(child, base, firstOkMs, lagBase);
  }

  async lag(): Promise<LagSummary | null> {
    if (!this.lagBase) return null;
    const response = await fetch(`${this.lagBase}/lag?reset=1`);
    return response.ok ? ((await response.json()) as LagSummary) : null;
  }

  async cpuMicros(): Promise<number> {
    return processCpuMicros(this.child.pid) ?? Number.NaN;
  }

  /** SIGTERM, then the time until the process is gone (SIGKILL after 10 s). */
  async stop(): Promise<number> {
    const t0 = performance.now();
    if (this.child.exitCode === null) this.child.kill("SIGTERM");
    const exited = await Promise.race([this.child.exited, Bun.sleep(EXIT_TIMEOUT_MS).then(() => null)]);
    if (exited === null) {
      this.child.kill("SIGKILL");
      await this.child.exited;
    }
    return performance.now() - t0;
  }
}
