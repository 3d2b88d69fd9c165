// Counts and times every bun:sqlite statement a process runs, by its SQL text and call (get, run,
// all, values, exec), and prints the largest totals to stderr when the process exits; and how
// many statements of each kind each commit of a transaction opened by hand held. A preload, for
// any kiln process or benchmark child:
//   bun --preload ./bench/sqlite-statements.ts bench/port-cost-child.ts . 10000 4
// The wrapper adds its own time to each call (about a microsecond): compare counts freely, and
// times only between runs that both carry it.
import { Database } from "bun:sqlite";

interface Tally {
  calls: number;
  ns: number;
}

const tallies = new Map<string, Tally>();
const shapes = new Map<string, number>();
/** The statements of the transaction opened by hand that is open now, by kind. */
let open: string[] | undefined;

function count(key: string, ns: number): void {
  const tally = tallies.get(key) ?? { calls: 0, ns: 0 };
  tally.calls++;
  tally.ns += ns;
  tallies.set(key, tally);
}

const label = (sql: string, length: number) => String(sql).replace(/\s+/g, " ").trim().slice(0, length);

type Method = (...args: unknown[]) => unknown;
const databaseMethods = Database.prototype as unknown as Record<string, Method>;

// Statements get their run/get/all/values on the instance, so each is wrapped as it is made.
for (const name of ["query", "prepare"]) {
  const make = databaseMethods[name] as Method;
  databaseMethods[name] = function (this: Database, sql: unknown, ...rest: unknown[]) {
    const statement = make.call(this, sql, ...rest) as Record<string, Method>;
    const text = label(String(sql), 110);
    for (const call of ["run", "get", "all", "values"]) {
      const original = statement[call];
      if (typeof original !== "function") continue;
      statement[call] = (...args: unknown[]) => {
        const t0 = Bun.nanoseconds();
        try {
          return original.apply(statement, args);
        } finally {
          count(`${call} ${text}`, Bun.nanoseconds() - t0);
          open?.push(text.slice(0, 18));
        }
      };
    }
    return statement;
  };
}

// exec and run on the database itself: BEGIN, COMMIT, PRAGMAs.
for (const name of ["exec", "run"]) {
  const original = databaseMethods[name] as Method;
  databaseMethods[name] = function (this: Database, sql: unknown, ...rest: unknown[]) {
    const t0 = Bun.nanoseconds();
    try {
      return original.call(this, sql, ...rest);
    } finally {
      count(`db.${name} ${label(String(sql), 60)}`, Bun.nanoseconds() - t0);
      if (sql === "BEGIN") open = [];
      else if (sql === "COMMIT" && open) {
        const kinds = new Map<string, number>();
        for (const kind of open) kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
        const shape = [...kinds].map(([kind, n]) => `${n}× ${kind}`).join(" + ") || "(empty)";
        shapes.set(shape, (shapes.get(shape) ?? 0) + 1);
        open = undefined;
      }
    }
  };
}

process.on("exit", () => {
  const rows = [...tallies].sort((a, b) => b[1].ns - a[1].ns).slice(0, 15);
  console.error("\ncalls      ms  statement (largest total time first)");
  for (const [key, tally] of rows) {
    console.error(`${String(tally.calls).padStart(6)} ${(tally.ns / 1e6).toFixed(0).padStart(6)}  ${key}`);
  }
  console.error("\ncommits  what each held (transactions opened by hand)");
  for (const [shape, n] of [...shapes].sort((a, b) => b[1] - a[1]).slice(0, 8)) {
    console.error(`${String(n).padStart(7)}  ${shape}`);
  }
});
