// How many WAL bytes one job's writes cost: kiln's three transitions (through SqliteSyncStore)
// against plainjob's add / claim / done on the same machine. A second connection keeps a read
// transaction open, so no checkpoint can rewind the WAL and its size counts every frame written.
import { Database } from "bun:sqlite";
import { statSync } from "node:fs";
import { join } from "node:path";
import { bun, defineQueue } from "plainjob";
import { SqliteSyncStore } from "../src/index.ts";
import { writeNoopLifecycle } from "./store-lifecycle.ts";
import { round, tempDir } from "./util.ts";

/** A WAL frame is a 24-byte header and one page. */
const FRAME_HEADER = 24;

export interface WalCost {
  system: string;
  jobs: number;
  walBytesPerJob: number;
  framesPerJob: number;
  transactionsPerJob: number;
}

/** Runs `oneJob` n times on `path` while a reader pins the WAL, and measures the WAL's growth. */
function measure(
  system: string,
  path: string,
  n: number,
  transactionsPerJob: number,
  oneJob: () => void,
): WalCost {
  // Warm-up: tables and indexes have their first pages before the count starts.
  for (let i = 0; i < 20; i++) oneJob();
  const reader = new Database(path, { readonly: true });
  const pageSize = reader.query<{ page_size: number }, []>("PRAGMA page_size").get()?.page_size ?? 4096;
  reader.exec("BEGIN");
  reader.query("SELECT count(*) FROM sqlite_master").get();
  const walPath = `${path}-wal`;
  const before = statSync(walPath).size;
  for (let i = 0; i < n; i++) oneJob();
  const bytes = statSync(walPath).size - before;
  reader.exec("COMMIT");
  reader.close();
  return {
    system,
    jobs: n,
    walBytesPerJob: round(bytes / n, 0),
    framesPerJob: round(bytes / n / (pageSize + FRAME_HEADER), 1),
    transactionsPerJob,
  };
}

function kiln(dir: string, n: number): WalCost {
  const store = new SqliteSyncStore({ path: join(dir, "kiln.db") });
  store.migrate();
  try {
    return measure(
      "kiln (SqliteSyncStore: create, RUNNING, FINISHED, each with a history row)",
      store.path,
      n,
      3,
      () => writeNoopLifecycle(store, Bun.randomUUIDv7()),
    );
  } finally {
    store.close();
  }
}

function plainjob(dir: string, n: number): WalCost {
  const path = join(dir, "plainjob.db");
  const quiet = { error() {}, warn() {}, info() {}, debug() {} };
  const queue = defineQueue({ connection: bun(new Database(path, { strict: true })), logger: quiet });
  try {
    return measure("plainjob (add, claim, done)", path, n, 3, () => {
      queue.add("bench-noop", null);
      const claimed = queue.getAndMarkJobAsProcessing("bench-noop");
      if (claimed) queue.markJobAsDone(claimed.id);
    });
  } finally {
    queue.close();
  }
}

export function walCosts(n: number): WalCost[] {
  const tmp = tempDir("wal");
  try {
    return [kiln(tmp.dir, n), plainjob(tmp.dir, n)];
  } finally {
    tmp.cleanup();
  }
}
