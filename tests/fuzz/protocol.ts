/** What the fuzzed server process tells the test. */
export type ChildMessage =
  | {
      type: "ready";
      port: number;
      dbPath: string;
      /** Ids of tasks that exist (FINISHED, delayed PENDING, PAUSED). */
      ids: string[];
      routes: Array<{ method: string; path: string }>;
    }
  | { type: "memory"; rss: number; heapUsed: number }
  | { type: "quiet"; quiet: boolean }
  | { type: "log"; level: "warn" | "error"; message: string; fields: string };

/** What the test asks of it. */
export type ParentMessage = { type: "memory" } | { type: "quiet" } | { type: "stop" };
