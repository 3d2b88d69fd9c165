import { CliError } from "./client/errors.ts";

/** `http://host:port`, with an IPv6 host in brackets. */
export function listenUrl(host: string, port: number): string {
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** The one line for an address another process holds, instead of Bun's error. */
export function addressInUse(host: string, port: number): CliError {
  return new CliError(
    `cannot listen on ${listenUrl(host, port)}: the address is already in use (another kiln serve?); stop it or choose another --port`,
  );
}

function isAddressInUse(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "EADDRINUSE";
}

/**
 * Throws `addressInUse` when `host:port` is taken, before the engine starts: a second kiln on
 * a taken port must not restore and run its tasks only to fail at the listen. Bun binds without
 * SO_REUSEPORT here, so a server that set it does not let this through either. Port 0 (any free
 * port) is always free.
 */
export function assertAddressFree(host: string, port: number): void {
  if (port === 0) return;
  try {
    Bun.listen({ hostname: host, port, socket: { data() {} } }).stop(true);
  } catch (error) {
    if (isAddressInUse(error)) throw addressInUse(host, port);
    // Any other failure (an address not on this machine, say) is reported by the real listen.
  }
}

/** Runs `listen`; an address in use becomes `addressInUse`, other errors pass unchanged. */
export function listenOrExplain<T>(host: string, port: number, listen: () => T): T {
  try {
    return listen();
  } catch (error) {
    if (isAddressInUse(error)) throw addressInUse(host, port);
    throw error;
  }
}
