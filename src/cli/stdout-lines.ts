import { writeSync } from "node:fs";

/** Lines gathered past this many characters are written at once. */
const FLUSH_CHARS = 64 * 1024;

/** How long a line may wait to be written with the ones after it. */
const FLUSH_AFTER_MS = 20;

/**
 * Log lines for stdout, gathered for up to 20 ms (or 64 KiB) and written with one blocking write:
 * a busy server logs a line per task transition, and a write per line (what console.log does)
 * cost the engine's thread several times more on a pipe, where each write also wakes the reader.
 * Blocking, as console.log is, so nothing is lost at exit: `flush()` runs then. A SIGKILL loses
 * at most the last 20 ms of lines.
 */
export class StdoutLines {
  #pending: string[] = [];
  #chars = 0;
  #scheduled = false;

  constructor(private readonly fd = 1) {}

  write = (line: string): void => {
    this.#pending.push(line);
    this.#chars += line.length + 1;
    if (this.#chars >= FLUSH_CHARS) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setTimeout(this.#flushScheduled, FLUSH_AFTER_MS);
    }
  };

  #flushScheduled = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  flush(): void {
    if (this.#pending.length === 0) return;
    const text = `${this.#pending.join("\n")}\n`;
    this.#pending = [];
    this.#chars = 0;
    let written = 0;
    try {
      // The string as it is (no Buffer copy); a short write, rare on a blocking pipe, goes on in bytes.
      written = writeSync(this.fd, text);
      const bytes = Buffer.byteLength(text);
      if (written < bytes) {
        const rest = Buffer.from(text);
        while (written < bytes) written += writeSync(this.fd, rest, written);
      }
    } catch {
      // A non-blocking stdout that is full (EAGAIN), or a closed one: let console.log deal with the rest.
      console.log(Buffer.from(text).subarray(written).toString().replace(/\n$/, ""));
    }
  }
}
