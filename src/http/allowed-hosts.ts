/**
 * The Host allow-list: which names a request may address this server by. A page whose DNS name
 * is made to point at 127.0.0.1 (DNS rebinding) reaches a loopback server as "same origin",
 * but its requests still carry its own name in Host, so they fail this check.
 */

/** The loopback names a server bound to loopback answers to by default (any port). */
export const LOOPBACK_HOSTS: readonly string[] = ["localhost", "127.0.0.1", "[::1]"];

/** Any host: the entry that turns the check off. */
export const ANY_HOST = "*";

interface HostPort {
  name: string;
  /** Undefined: no port given (in an entry: any port). */
  port: string | undefined;
}

// A DNS name or IPv4 address, or an IPv6 address in brackets; then an optional port.
const HOST_PORT = /^(\[[0-9a-f:.]+\]|[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?)(?::(\d{1,5}))?$/;

/** `host[:port]` in lower case, or undefined when it is not one. */
function parseHostPort(value: string): HostPort | undefined {
  const match = HOST_PORT.exec(value.trim().toLowerCase());
  if (!match?.[1]) return undefined;
  if (match[2] !== undefined && Number(match[2]) > 65_535) return undefined;
  return { name: match[1], port: match[2] };
}

/**
 * Checks one allow-list entry: `name`, `name:port`, `[v6]`, `[v6]:port` or `*`. Returns it in
 * lower case, or throws saying why.
 */
export function checkAllowedHost(value: string): string {
  const entry = value.trim().toLowerCase();
  if (entry === ANY_HOST) return entry;
  if (/^[0-9a-f:]+$/.test(entry) && entry.includes("::")) {
    throw new Error(`allowed host "${value}" is an IPv6 address: write it in brackets, as [${entry}]`);
  }
  if (parseHostPort(entry) === undefined) {
    throw new Error(`allowed host "${value}" is not a host name or address with an optional :port`);
  }
  return entry;
}

/** Matches a request's Host header against the allow-list; `undefined` entries allow any host. */
export class HostAllowList {
  readonly #entries: readonly HostPort[] | undefined;

  constructor(entries: readonly string[] | undefined) {
    const checked = entries?.map(checkAllowedHost);
    this.#entries =
      checked === undefined || checked.includes(ANY_HOST)
        ? undefined
        : checked.map((entry) => parseHostPort(entry) as HostPort);
  }

  get enabled(): boolean {
    return this.#entries !== undefined;
  }

  /** The entries, for messages. */
  describe(): string {
    return this.#entries === undefined
      ? ANY_HOST
      : this.#entries
          .map((entry) => (entry.port === undefined ? entry.name : `${entry.name}:${entry.port}`))
          .join(", ");
  }

  /** True when `host` (the Host header, null when absent) is allowed. */
  allows(host: string | null): boolean {
    if (this.#entries === undefined) return true;
    if (host === null) return false;
    const given = parseHostPort(host);
    if (given === undefined) return false;
    return this.#entries.some(
      (entry) => entry.name === given.name && (entry.port === undefined || entry.port === given.port),
    );
  }
}
