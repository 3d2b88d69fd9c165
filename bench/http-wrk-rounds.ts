// POST /tasks on kiln and on the bare Elysia app with wrk as the client (one thread, 16
// connections, each sending its next request as soon as the answer is in), in rounds whose order
// alternates. The fetch() client of the throughput rounds spends more CPU a request than the bare
// app's server does, so on two cores it, not the bare app, sets the bare figure there; wrk (C, an
// event loop of its own) leaves the bare app the CPU to reach its own ceiling, and the ratio
// against it is the stricter one.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Server } from "./http-client.ts";
import { CLIENT_CONCURRENCY, drainBacklog } from "./http-rounds.ts";
import { median, round, tempDir } from "./util.ts";
import { runWrk, type WrkFigures } from "./wrk.ts";

const POST_SCRIPT = `wrk.method = "POST"
wrk.body = '{"name":"bench-noop"}'
wrk.headers["Content-Type"] = "application/json"
`;

export interface WrkPostRound {
  round: number;
  first: "kiln" | "bare";
  kiln: WrkFigures;
  bare: WrkFigures;
  /** kiln's requests per second ÷ the bare app's in this round. */
  ratio: number | null;
  /** bench-noop tasks kiln finished per second while wrk ran against it. */
  finishedPerSec: number;
  /** How long kiln's backlog then took to drain, before anything else was measured. */
  drainMs: number;
}

export interface WrkPostRounds {
  rounds: WrkPostRound[];
  ratio: number | null;
}

/** `rounds` rounds of `seconds` of wrk POST /tasks against each server, after one unrecorded second on each. */
export async function wrkPostRounds(
  kiln: Server,
  bare: Server,
  rounds: number,
  seconds: number,
): Promise<WrkPostRounds> {
  const tmp = tempDir("wrk-post");
  try {
    const script = join(tmp.dir, "post.lua");
    writeFileSync(script, POST_SCRIPT);
    const post = (server: Server, secs: number) =>
      runWrk(`${server.base}/tasks`, secs, CLIENT_CONCURRENCY, script);
    const drain = () => drainBacklog(kiln, "the wrk POST /tasks backlog");
    await post(kiln, 1);
    await drain();
    await post(bare, 1);
    const measured: WrkPostRound[] = [];
    for (let r = 0; r < rounds; r++) {
      const kilnFirst = r % 2 === 0;
      let drainMs = 0;
      let finishedPerSec = 0;
      const onKiln = async () => {
        const before = (await kiln.usage()).finishedEvents;
        const figures = await post(kiln, seconds);
        finishedPerSec = round(((await kiln.usage()).finishedEvents - before) / seconds, 0);
        drainMs = await drain();
        return figures;
      };
      const bareFirst = kilnFirst ? undefined : await post(bare, seconds);
      const kilnFigures = await onKiln();
      const bareFigures = bareFirst ?? (await post(bare, seconds));
      measured.push({
        round: r + 1,
        first: kilnFirst ? "kiln" : "bare",
        kiln: kilnFigures,
        bare: bareFigures,
        ratio:
          bareFigures.requestsPerSec > 0 ? kilnFigures.requestsPerSec / bareFigures.requestsPerSec : null,
        finishedPerSec,
        drainMs,
      });
    }
    const ratios = measured.map((m) => m.ratio).filter((ratio): ratio is number => ratio !== null);
    return { rounds: measured, ratio: ratios.length === 0 ? null : median(ratios) };
  } finally {
    tmp.cleanup();
  }
}
