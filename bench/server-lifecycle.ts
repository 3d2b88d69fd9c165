// The end of every bench server process (bench/http-server.ts and the servers that speak its
// protocol): the port line its parent waits for, then one clean stop on SIGTERM, SIGINT or when
// stdin closes (the parent went away without signalling, so nothing else would ever stop it).

/** Prints `{"port": N}`, then waits; on the first signal or the end of stdin runs `stop` and exits 0. */
export async function serveUntilStopped(
  port: number | undefined,
  stop: () => Promise<void> | void,
): Promise<void> {
  let stopping = false;
  const end = async () => {
    if (stopping) return;
    stopping = true;
    await stop();
    process.exit(0);
  };
  process.on("SIGTERM", () => void end());
  process.on("SIGINT", () => void end());
  console.log(JSON.stringify({ port }));
  for await (const _chunk of Bun.stdin.stream()) {
    // The parent writes nothing; the loop only waits for the end of the stream.
  }
  await end();
}
