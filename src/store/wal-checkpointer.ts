/**
 * Copies the write-ahead log back into the database file from a thread of its own.
 *
 * SQLite's automatic checkpoint runs inside whichever commit pushes the WAL past 1,000 pages,
 * on the connection that commits: kiln's main thread, which then stalls for ~10 ms while every
 * control request, HTTP answer and worker message waits. With this running, the main
 * connection turns its automatic checkpoint off and a second connection on a Bun Worker runs a
 * PASSIVE checkpoint a few times a second. PASSIVE never waits for or blocks the writer.
 *
 * The writer starts the WAL over from its beginning only if, when it begins a transaction, a
 * checkpoint has copied every frame. Under a steady stream of commits the worker rarely wins
 * that race, so the WAL would keep growing; once it holds more than `maxFrames` the worker asks
 * the writer's thread (`onRestartWanted`) to run one checkpoint itself, between two of its own
 * commits. That copies only the few frames the worker has not, and the next commit starts the
 * WAL over: one short pause per tens of megabytes of writes instead of a full checkpoint every
 * 4 MB inside a commit.
 *
 * The worker's code is a string loaded from a Blob URL so it needs no file of its own, in a
 * source checkout, inside a host app's bundle and in the compiled binary alike.
 */
const WORKER_SOURCE = `
import { Database } from "bun:sqlite";
import { dlopen, FFIType } from "bun:ffi";
// Below the main thread, like task workers: a checkpoint must never delay an API answer.
// setpriority(PRIO_PROCESS, 0, …) applies to the calling thread alone on Linux. This is
// src/worker/thread-priority.ts written out again: code loaded from a Blob cannot import it.
if (process.platform === "linux") {
  for (const name of ["libc.so.6", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1"]) {
    try {
      const libc = dlopen(name, {
        getpriority: { args: [FFIType.i32, FFIType.u32], returns: FFIType.i32 },
        setpriority: { args: [FFIType.i32, FFIType.u32, FFIType.i32], returns: FFIType.i32 },
      });
      libc.symbols.setpriority(0, 0, Math.min(19, libc.symbols.getpriority(0, 0) + 10));
      libc.close();
      break;
    } catch {}
  }
}
let db;
let timer;
function close(done) {
  clearInterval(timer);
  try { db?.close(); } catch {}
  db = undefined;
  Atomics.store(done, 0, 1);
  Atomics.notify(done, 0);
}
self.onmessage = (event) => {
  const message = event.data;
  if (message.type === "start") {
    try {
      db = new Database(message.path, { readwrite: true, create: false });
      db.exec("PRAGMA busy_timeout = 0");
      // all(), not get(): a statement left unfinished keeps a read mark on the WAL, and the
      // writer may not start the WAL over while any connection holds one.
      const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
      timer = setInterval(() => {
        try {
          const [result] = checkpoint.all();
          if (result && result.log > message.maxFrames) postMessage({ type: "restart-wal" });
        } catch (error) {
          // SQLITE_BUSY: another checkpoint is running (the main connection closing); next tick.
          if (!String(error).includes("busy") && !String(error).includes("locked")) {
            postMessage({ type: "failed", error: String(error) });
            clearInterval(timer);
          }
        }
      }, message.intervalMs);
      postMessage({ type: "started" });
    } catch (error) {
      postMessage({ type: "failed", error: String(error) });
    }
  } else if (message.type === "stop") {
    close(message.done);
  }
};
`;

let workerUrl: string | undefined;

export interface WalCheckpointerOptions {
  path: string;
  /** How often the worker checkpoints (default 200 ms). */
  intervalMs?: number;
  /** WAL frames (pages) above which the writer is asked to finish a checkpoint (default 8,000). */
  maxFrames?: number;
  /** The WAL is long: the writer's connection should run `PRAGMA wal_checkpoint(PASSIVE)`. */
  onRestartWanted: () => void;
  /** The worker could not checkpoint: the caller turns SQLite's automatic checkpoint back on. */
  onFailure: (error: string) => void;
}

export class WalCheckpointer {
  readonly #worker: Worker;
  readonly #done = new Int32Array(new SharedArrayBuffer(4));
  #stopped = false;

  constructor(options: WalCheckpointerOptions) {
    workerUrl ??= URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
    // Unref'd: a checkpointer alone must not keep a process alive that has nothing else to do.
    this.#worker = new Worker(workerUrl, { ref: false, smol: true });
    this.#worker.onmessage = (event: MessageEvent<{ type: string; error?: string }>) => {
      if (this.#stopped) return;
      if (event.data.type === "restart-wal") options.onRestartWanted();
      else if (event.data.type === "failed") options.onFailure(event.data.error ?? "unknown");
    };
    this.#worker.onerror = (event) => {
      if (!this.#stopped) options.onFailure(event.message);
    };
    this.#worker.postMessage({
      type: "start",
      path: options.path,
      intervalMs: options.intervalMs ?? 200,
      maxFrames: options.maxFrames ?? 8_000,
    });
  }

  /**
   * Closes the worker's connection and waits (at most `timeoutMs`) until it has: the store's
   * final TRUNCATE checkpoint on close must not find another connection still in the file.
   */
  stop(timeoutMs = 2_000): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#worker.postMessage({ type: "stop", done: this.#done });
    Atomics.wait(this.#done, 0, 0, timeoutMs);
    this.#worker.terminate();
  }
}
