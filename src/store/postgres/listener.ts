import { randomBytes } from "node:crypto";
import type { PostgresClient } from "./client.ts";

export interface SupervisedListenerOptions {
  /** A client of its own for the LISTEN connection (one connection), made anew for each session. */
  openClient: () => PostgresClient;
  channels: readonly string[];
  onMessage: (channel: string, payload: string) => void;
  /** After each (re)connect: what was missed meanwhile is for the caller to catch up on. */
  onListen: () => void;
  /** Sends a notification through another connection than the listening one. */
  notify: (channel: string, payload: string) => Promise<void>;
  /** How often the connection is checked by a notification sent to itself. */
  probeEveryMs: number;
  /** A session heard nothing of its check for `silentMs` and is being replaced. */
  onDeaf?: (silentMs: number) => void;
}

interface Session {
  client: PostgresClient;
  generation: number;
}

/**
 * A LISTEN connection that is known to work, not assumed to. postgres.js listens again after it
 * loses the connection, but a single failed attempt (the server still starting up after a
 * restart) is swallowed and never retried, leaving a connection that hears nothing while every
 * query works. So the listener sends a notification to a channel of its own now and then; one
 * not heard back in time means the session is deaf, and it is replaced by a new client.
 */
export class SupervisedListener {
  readonly #options: SupervisedListenerOptions;
  readonly #probeChannel = `kiln_probe_${randomBytes(8).toString("hex")}`;
  readonly #probeTimeoutMs: number;
  #session: Session | undefined;
  #generation = 0;
  #probe: { token: string; sentAt: number } | undefined;
  #probes = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #replacing: Promise<void> | undefined;
  #closed = false;

  constructor(options: SupervisedListenerOptions) {
    this.#options = options;
    // Two probe periods, and never under 2 s: a loaded machine or a slow commit is not deafness.
    this.#probeTimeoutMs = Math.max(2 * options.probeEveryMs, 2_000);
  }

  /** Listens on every channel; rejects when the first session cannot be opened. */
  async start(): Promise<void> {
    this.#session = await this.#open();
    this.#timer = setInterval(() => this.#check(), this.#options.probeEveryMs);
    this.#timer.unref?.();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#replacing;
    const session = this.#session;
    this.#session = undefined;
    await session?.client.end({ timeout: 0 }).catch(() => undefined);
  }

  async #open(): Promise<Session> {
    const client = this.#options.openClient();
    const generation = ++this.#generation;
    // A replaced session's late messages are dropped; the new one's count from its first.
    const current = () => generation >= (this.#session?.generation ?? 0);
    try {
      await client.listen(this.#probeChannel, (payload) => {
        if (this.#probe?.token === payload) this.#probe = undefined;
      });
      await Promise.all(
        this.#options.channels.map((channel) =>
          client.listen(
            channel,
            (payload) => {
              if (current()) this.#options.onMessage(channel, payload);
            },
            () => {
              if (!current()) return;
              // A probe sent while the connection was being replaced was lost with it.
              this.#probe = undefined;
              this.#options.onListen();
            },
          ),
        ),
      );
    } catch (error) {
      await client.end({ timeout: 0 }).catch(() => undefined);
      throw error;
    }
    return { client, generation };
  }

  #check(): void {
    if (this.#closed || this.#replacing) return;
    const probe = this.#probe;
    if (probe && performance.now() - probe.sentAt > this.#probeTimeoutMs) {
      this.#options.onDeaf?.(Math.round(performance.now() - probe.sentAt));
      this.#replacing = this.#replace().finally(() => {
        this.#replacing = undefined;
      });
      return;
    }
    if (probe) return;
    const token = String(++this.#probes);
    this.#probe = { token, sentAt: performance.now() };
    this.#options.notify(this.#probeChannel, token).catch(() => {
      // The database is out of reach: nothing is heard either way; the next period probes again.
      if (this.#probe?.token === token) this.#probe = undefined;
    });
  }

  async #replace(): Promise<void> {
    const deaf = this.#session;
    this.#probe = undefined;
    try {
      const session = await this.#open();
      if (this.#closed) {
        await session.client.end({ timeout: 0 }).catch(() => undefined);
        return;
      }
      this.#session = session;
      await deaf?.client.end({ timeout: 0 }).catch(() => undefined);
      this.#options.onListen();
    } catch {
      // Not reachable yet: the deaf session stays until the next period tries again.
    }
  }
}
