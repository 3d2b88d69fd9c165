export interface SseMessage {
  event: string;
  data: unknown;
}

/** Reads Server-Sent Events from a fetch body, frame by frame (comments skipped). */
export class SseReader {
  readonly #reader: {
    read(): Promise<{ done: boolean; value?: Uint8Array }>;
    cancel(): Promise<void>;
  };
  readonly #decoder = new TextDecoder();
  #buffer = "";
  comments = 0;

  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.getReader();
  }

  /** The next event, or null when the stream ended. */
  async next(): Promise<SseMessage | null> {
    for (;;) {
      const end = this.#buffer.indexOf("\n\n");
      if (end !== -1) {
        const frame = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        const message = this.#parse(frame);
        if (message) return message;
        continue;
      }
      const { done, value } = await this.#reader.read();
      if (done || !value) return null;
      this.#buffer += this.#decoder.decode(value, { stream: true });
    }
  }

  /** Events until `until` holds for one (included), failing after `timeoutMs`. */
  async collect(until: (message: SseMessage) => boolean, timeoutMs = 10_000): Promise<SseMessage[]> {
    const messages: SseMessage[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching event within ${timeoutMs} ms`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no matching event within ${timeoutMs} ms`)), left);
      });
      const message = await Promise.race([this.next(), timeout]).finally(() => clearTimeout(timer));
      if (!message) throw new Error("the stream ended");
      messages.push(message);
      if (until(message)) return messages;
    }
  }

  cancel(): Promise<void> {
    return this.#reader.cancel();
  }

  #parse(frame: string): SseMessage | null {
    let event = "message";
    const data: string[] = [];
    for (const line of frame.split("\n")) {
      if (line.startsWith(":")) {
        this.comments++;
      } else if (line.startsWith("event:")) {
        event = line.slice(6).trim();
      } else if (line.startsWith("data:")) {
        data.push(line.slice(5).trimStart());
      }
    }
    if (data.length === 0) return null;
    return { event, data: JSON.parse(data.join("\n")) };
  }
}
