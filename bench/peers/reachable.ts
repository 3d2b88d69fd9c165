// Whether a local service accepts TCP connections: a peer whose service is down is reported as
// skipped with this reason, never silently dropped.

/** Null when `host:port` accepts a connection within `timeoutMs`; otherwise why not. */
export async function unreachable(what: string, host: string, port: number, timeoutMs = 2_000) {
  const attempt = new Promise<string | null>((resolve) => {
    Bun.connect({
      hostname: host,
      port,
      socket: {
        open(socket) {
          socket.end();
          resolve(null);
        },
        data() {},
        connectError(_socket, error) {
          resolve(`${what} not reachable at ${host}:${port}: ${error.message}`);
        },
      },
    }).catch((error: unknown) =>
      resolve(`${what} not reachable at ${host}:${port}: ${error instanceof Error ? error.message : error}`),
    );
  });
  const timeout = Bun.sleep(timeoutMs).then(
    () => `${what} did not answer at ${host}:${port} within ${timeoutMs} ms`,
  );
  return Promise.race([attempt, timeout]);
}
