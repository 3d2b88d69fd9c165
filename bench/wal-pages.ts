// Which pages each commit of the engine writes, by the table or index they belong to: N no-op
// tasks through `submit()` at a concurrency, while a second connection holds a read transaction
// so that no checkpoint rewinds the WAL; then every frame written meanwhile is read back from the
// WAL file (a frame header names its page, and a commit frame the database's size) and each page
// is named by SQLite's `dbstat` table. A commit costs about two write calls per page (a frame's
// header and its page), so this is where a commit's time goes.
// Usage: bun bench/wal-pages.ts [n=5000] [concurrency=4]
import { Database } from "bun:sqlite";
import { readFileSync } from "node:fs";
import { silentLogger, TaskManager } from "../src/index.ts";
import { formatTable, round, TASKS_URL, tempDir } from "./util.ts";

const WAL_HEADER = 32;
const FRAME_HEADER = 24;
const CREATE_CHUNK = 250;

/** The pages of each commit's frames, from `offset` of the WAL file at `walPath` on. */
function commitsIn(walPath: string, offset: number): number[][] {
  const wal = readFileSync(walPath);
  const frameSize = FRAME_HEADER + wal.readUInt32BE(8);
  const commits: number[][] = [];
  let pages: number[] = [];
  for (let at = WAL_HEADER; at + frameSize <= wal.length; at += frameSize) {
    if (at >= offset) pages.push(wal.readUInt32BE(at));
    // A commit frame carries the database's size in pages; the others carry 0.
    if (wal.readUInt32BE(at + 4) !== 0) {
      if (pages.length > 0) commits.push(pages);
      pages = [];
    }
  }
  return commits;
}

const n = Number(Bun.argv[2] ?? 5_000);
const concurrency = Number(Bun.argv[3] ?? 4);
const tmp = tempDir("wal-pages");
const manager = new TaskManager({ db: tmp.db, concurrency, logger: silentLogger });
let finished = 0;
let allFinished = () => {};
manager.subscribe((event) => {
  if (event.type === "transition" && event.to === "FINISHED" && ++finished === n) allFinished();
});
try {
  await manager.load(TASKS_URL);
  await manager.start();
  const pin = new Database(tmp.db, { readonly: true });
  pin.exec("BEGIN");
  pin.query("SELECT count(*) FROM sqlite_master").get();
  const walPath = `${tmp.db}-wal`;
  const offset = readFileSync(walPath).length;
  const done = new Promise<void>((resolve) => {
    allFinished = resolve;
  });
  for (let i = 0; i < n; i += CREATE_CHUNK) {
    const chunk = Math.min(CREATE_CHUNK, n - i);
    await Promise.all(Array.from({ length: chunk }, () => manager.submit("bench-noop", null)));
  }
  await done;
  const commits = commitsIn(walPath, offset);
  pin.exec("COMMIT");
  pin.close();

  const owners = new Map<number, string>();
  const stat = new Database(tmp.db, { readonly: true });
  for (const row of stat
    .query<{ name: string; pageno: number; pagetype: string }, []>(
      "SELECT name, pageno, pagetype FROM dbstat",
    )
    .all()) {
    owners.set(row.pageno, `${row.name} (${row.pagetype})`);
  }
  stat.close();
  const byOwner = new Map<string, number>();
  let frames = 0;
  for (const pages of commits) {
    for (const page of pages) {
      frames++;
      const owner = owners.get(page) ?? "a page freed since";
      byOwner.set(owner, (byOwner.get(owner) ?? 0) + 1);
    }
  }
  console.log(
    `${n} no-op tasks at concurrency ${concurrency}: ${commits.length} commits, ${frames} pages written, ` +
      `${round(frames / commits.length, 2)} a commit, ${round(frames / n, 2)} a task\n`,
  );
  const rows = [...byOwner]
    .sort((a, b) => b[1] - a[1])
    .map(([owner, count]) => ({
      "table or index (page kind)": owner,
      "pages a commit": round(count / commits.length, 2),
      "pages a task": round(count / n, 3),
    }));
  console.log(formatTable(rows));
} finally {
  await manager.shutdown();
  tmp.cleanup();
}
