import { authHeaders } from "./token.ts";

export interface SseMessage {
  event: string;
  data: string;
}

/**
 * Splits a text/event-stream buffer into complete messages and the unfinished rest. Comment
 * lines (heartbeats) are skipped; a message without an event name is a "message".
 */
export function parseSse(buffer: string): { messages: SseMessage[]; rest: string } {
  const messages: SseMessage[] = [];
  const normalised = buffer.replace(/\r\n?/g, "\n");
  const blocks = normalised.split("\n\n");
  const rest = blocks.pop() ?? "";
  for (const block of blocks) {
    let event = "message";
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line === "" || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    if (data.length > 0) messages.push({ event, data: data.join("\n") });
  }
  return { messages, rest };
}

export interface StreamHandlers {
  onMessage: (message: SseMessage) => void;
  /** Connected (again): anything sent while away was missed, so the page reloads what it shows. */
  onOpen: () => void;
  /** Lost the connection; it is retried after `retryInMs`. */
  onDown: (retryInMs: number) => void;
  /** A 401: retrying is pointless until the page has a (new) token. */
  onUnauthorized: () => void;
}

const MIN_RETRY_MS = 1_000;
const MAX_RETRY_MS = 15_000;

/**
 * Follows GET /events. EventSource cannot send an Authorization header, so this reads the
 * stream with fetch; it reconnects with a growing delay until `stop()` is called.
 */
export function followEvents(url: string, handlers: StreamHandlers): { stop: () => void } {
  const abort = new AbortController();
  let retryMs = MIN_RETRY_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const read = async (response: Response) => {
    if (!response.body) return;
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      const { messages, rest } = parseSse(buffer);
      buffer = rest;
      for (const message of messages) handlers.onMessage(message);
    }
  };

  const connect = async () => {
    try {
      const response = await fetch(url, {
        headers: { accept: "text/event-stream", ...authHeaders() },
        cache: "no-store",
        signal: abort.signal,
      });
      if (response.status === 401) {
        handlers.onUnauthorized();
        return;
      }
      if (response.ok) {
        retryMs = MIN_RETRY_MS;
        handlers.onOpen();
        await read(response);
      }
    } catch {
      // A dropped connection or an abort; which one is told by the signal below.
    }
    if (abort.signal.aborted) return;
    handlers.onDown(retryMs);
    timer = setTimeout(connect, retryMs);
    retryMs = Math.min(MAX_RETRY_MS, retryMs * 2);
  };

  void connect();
  return {
    stop: () => {
      abort.abort();
      if (timer) clearTimeout(timer);
    },
  };
}
