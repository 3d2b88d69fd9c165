// An external load tool against the API: wrk (Debian package `wrk`), one thread and one
// connection, so its latency is that of requests sent one at a time by a client that is not
// the JavaScript of this process. Missing wrk is reported, never skipped silently.
import { round } from "./util.ts";

export interface WrkFigures {
  url: string;
  seconds: number;
  requests: number;
  requestsPerSec: number;
  /** Non-2xx/3xx answers and socket errors. */
  errors: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
}

/** Null when wrk is on the PATH; otherwise the reason the wrk figures are missing. */
export function wrkMissing(): string | null {
  return Bun.which("wrk") === null
    ? "skipped: wrk is not installed (Debian/Ubuntu: apt-get install -y wrk), so there are no figures from an external load tool"
    : null;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1_000, m: 60_000 };

function latency(text: string, percent: string): number {
  const match = new RegExp(`^\\s*${percent}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m").exec(text);
  if (!match) throw new Error(`wrk printed no ${percent}% latency:\n${text}`);
  return round(Number(match[1]) * (UNIT_MS[match[2] ?? "ms"] ?? 1), 3);
}

/** `wrk -t1 -c<connections> -d<seconds>s --latency [-s <script>] <url>`, parsed. */
export async function runWrk(
  url: string,
  seconds: number,
  connections = 1,
  script?: string,
): Promise<WrkFigures> {
  const scriptArgs = script === undefined ? [] : ["-s", script];
  const child = Bun.spawn(
    ["wrk", "-t1", `-c${connections}`, `-d${seconds}s`, "--latency", ...scriptArgs, url],
    {
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0) throw new Error(`wrk exited with ${code}: ${err.trim() || out.trim()}`);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? Number.NaN);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    url,
    seconds,
    requests,
    requestsPerSec: round(Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN), 0),
    errors: non2xx + socketErrors,
    p50Ms: latency(out, "50"),
    p90Ms: latency(out, "90"),
    p99Ms: latency(out, "99"),
  };
}
