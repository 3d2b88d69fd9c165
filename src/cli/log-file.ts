import { closeSync, existsSync, fstatSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import type { LogFileConfig } from "./config.ts";

/** Written lines wait at most this many bytes before they go to the file in one write. */
const FLUSH_BYTES = 64 * 1024;

/**
 * The service log's copy in a file, one JSON line each. In `rotate` mode a line that would take
 * the file past `maxBytes` first moves path.N-1 → path.N, …, path → path.1 (the oldest beyond
 * `backups` is overwritten; with 0 backups the file is just started again). In `watched` mode
 * the file is never renamed by kiln: `reopen()` (on SIGHUP) opens the path again after logrotate
 * moved it away. Lines are gathered for one turn of the event loop and written together, so a
 * burst of lines costs one write, not one each; `flush()` writes them at once (at exit).
 * A failed write never stops the server: it is reported once on stderr, and the lines are lost.
 */
export class LogFile {
  #fd: number;
  #size: number;
  #pending: string[] = [];
  #pendingBytes = 0;
  #scheduled = false;
  #failing = false;

  constructor(private readonly config: LogFileConfig) {
    this.#fd = this.#open();
    this.#size = fstatSync(this.#fd).size;
  }

  get path(): string {
    return this.config.path;
  }

  /** Queues one line (without its newline); it is written within this turn of the event loop. */
  write = (line: string): void => {
    const text = `${line}\n`;
    this.#pending.push(text);
    this.#pendingBytes += Buffer.byteLength(text);
    if (this.#pendingBytes >= FLUSH_BYTES) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flushScheduled);
    }
  };

  #flushScheduled = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  /** Writes every queued line now. */
  flush(): void {
    const lines = this.#pending;
    if (lines.length === 0) return;
    this.#pending = [];
    this.#pendingBytes = 0;
    try {
      if (this.config.mode === "watched") {
        this.#writeAll(lines.join(""));
        return;
      }
      // Line by line against the limit, so that a rotation falls between two lines.
      let chunk = "";
      let chunkBytes = 0;
      for (const text of lines) {
        const bytes = Buffer.byteLength(text);
        if (this.#size + chunkBytes + bytes > this.config.maxBytes && this.#size + chunkBytes > 0) {
          this.#writeAll(chunk);
          chunk = "";
          chunkBytes = 0;
          this.#rotate();
        }
        chunk += text;
        chunkBytes += bytes;
      }
      this.#writeAll(chunk);
    } catch (error) {
      this.#report(error);
    }
  }

  /** Opens the path again (after logrotate moved the file away); queued lines go to the new file. */
  reopen(): void {
    this.flush();
    try {
      const fd = this.#open();
      closeSync(this.#fd);
      this.#fd = fd;
      this.#size = fstatSync(fd).size;
    } catch (error) {
      this.#report(error);
    }
  }

  close(): void {
    this.flush();
    closeSync(this.#fd);
  }

  #open(): number {
    return openSync(this.config.path, "a", 0o640);
  }

  #writeAll(text: string): void {
    if (text === "") return;
    const buffer = Buffer.from(text);
    let offset = 0;
    while (offset < buffer.length) offset += writeSync(this.#fd, buffer, offset);
    this.#size += buffer.length;
    this.#failing = false;
  }

  #rotate(): void {
    const { path, backups } = this.config;
    closeSync(this.#fd);
    let renamed = true;
    try {
      if (backups === 0) {
        rmSync(path, { force: true });
      } else {
        for (let i = backups - 1; i >= 1; i--) {
          if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
        }
        renameSync(path, `${path}.1`);
      }
    } catch (error) {
      // Keep logging to the same file rather than to none, and try again after maxBytes more.
      renamed = false;
      this.#report(error);
    } finally {
      this.#fd = this.#open();
      this.#size = renamed ? fstatSync(this.#fd).size : 0;
    }
  }

  #report(error: unknown): void {
    if (this.#failing) return;
    this.#failing = true;
    console.error(`kiln: cannot write the log file ${this.config.path}: ${(error as Error).message}`);
  }
}
