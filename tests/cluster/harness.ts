// Several real `kiln serve` processes on one PostgreSQL database, for the cluster tests: start
// them, signal them, ask any of them about tasks and nodes, and read the fixture task's record
// tables (see recording.ts and tasks/steps.ts).
//
// Run them with `bun test tests/cluster/` (KILN_TEST_POSTGRES_URL for a server of your own; test 6
// always starts a throwaway server, since it restarts it). Each waits with a deadline and fails
// with the task, its history and its record rows; a node that cannot start fails the test at
// once with the node's own words.
import { afterAll, afterEach, beforeAll } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type postgres from "postgres";
import { KILN_FROM_SOURCE, api as plainApi, type ServingKiln, serveKiln } from "../binary/kiln-process.ts";
import { rawClient, testDatabase } from "../store/postgres/database.ts";
import type { TestDatabase } from "../support/postgres.ts";
import { createRecordTables, Records, type RunRow } from "./recording.ts";

/** The directory of the fixture task file, loaded by every node with `--tasks-dir`. */
export const CLUSTER_TASKS_DIR = new URL("./tasks/", import.meta.url).pathname;

/** A request to a node that does not answer in this long fails (a frozen node never answers). */
const REQUEST_TIMEOUT_MS = 15_000;

/** `api` of kiln-process.ts with a deadline: a test fails with a message rather than hanging. */
export function api<T = Record<string, unknown>>(
  url: string,
  init: { method?: string; json?: unknown } = {},
): Promise<{ status: number; body: T }> {
  return plainApi<T>(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }).catch((error) => {
    throw new Error(`${init.method ?? (init.json === undefined ? "GET" : "POST")} ${url}: ${error}`);
  });
}

/** Short lease settings, so a dead node's tasks move within a couple of seconds. */
export const SHORT_LEASE = { leaseMs: 1_500, heartbeatMs: 300, rescueMs: 300, claimPollMs: 200 } as const;

/** What a test that needs the multi-node engine says when it is not there. */
export const NEEDS_CLUSTER =
  'the cluster tests need several kiln nodes on one PostgreSQL (issue "Several kiln nodes on one PostgreSQL")';

export interface LeaseSettings {
  leaseMs: number;
  heartbeatMs: number;
  rescueMs: number;
  claimPollMs: number;
}

export interface ClusterOptions {
  /** Nodes started at once (default 3). */
  nodes?: number;
  /** `--concurrency` of each node (default 2). */
  concurrency?: number;
  /** The lease flags; default SHORT_LEASE. */
  lease?: Partial<LeaseSettings>;
  /**
   * Pass the multi-node flags (--node-name, --lease-ms, …); default true. False starts a kiln
   * as it is today, for the single-node smoke test of the harness itself.
   */
  clusterFlags?: boolean;
  /** The `--tasks-dir` of every node (default CLUSTER_TASKS_DIR, the `steps` fixture). */
  tasksDir?: string;
}

export type NodeState = "up" | "stopped" | "exited";

export interface TaskJson {
  id: string;
  name: string;
  status: string;
  statusReason: string | null;
  attempt: number;
  progress: { done: number; total: number | null } | null;
  result: unknown;
  error: unknown;
  requestedAction: string | null;
  /** The id of the node running the task while RUNNING (multi-node engine). */
  node?: string | null;
}

export interface EventJson {
  at: string;
  from: string | null;
  to: string | null;
  action: string;
  actor?: string | null;
  reason?: string | null;
}

export interface NodeJson {
  id: string;
  name: string;
  host: string;
  pid: number;
  startedAt: string;
  lastHeartbeatAt: string;
  status: "alive" | "stopping";
  concurrency: number;
  running: number;
  leader: boolean;
}

export interface StepsParams {
  steps: number;
  stepMs: number;
}

/** One `kiln serve` process of the cluster. */
export class ClusterNode {
  state: NodeState = "up";
  /** What the node wrote to stderr, read as it comes so that a full pipe never blocks it. */
  stderr = "";

  constructor(
    /** The `--node-name` (also the node's label in messages). */
    readonly name: string,
    readonly server: ServingKiln,
    readonly dir: string,
  ) {
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of server.proc.stderr) this.stderr += decoder.decode(chunk, { stream: true });
    })().catch(() => {});
  }

  get pid(): number {
    return this.server.proc.pid;
  }

  get url(): string {
    return this.server.url;
  }

  /** SIGKILL, and waits until the process is gone. */
  async kill(): Promise<void> {
    if (this.state === "stopped") this.server.proc.kill("SIGCONT");
    this.server.proc.kill("SIGKILL");
    await this.server.proc.exited;
    this.state = "exited";
  }

  /** SIGSTOP: the process freezes (its connections stay open, its heartbeats stop). */
  freeze(): void {
    this.server.proc.kill("SIGSTOP");
    this.state = "stopped";
  }

  /** SIGCONT after `freeze()`. */
  thaw(): void {
    this.server.proc.kill("SIGCONT");
    this.state = "up";
  }

  /** SIGTERM: the graceful stop. Resolves with the exit code (after at most `timeoutMs`, then SIGKILL). */
  async terminate(timeoutMs = 30_000): Promise<number> {
    this.server.proc.kill("SIGTERM");
    const timer = setTimeout(() => this.server.proc.kill("SIGKILL"), timeoutMs);
    const code = await this.server.proc.exited;
    clearTimeout(timer);
    this.state = "exited";
    return code;
  }

  toString(): string {
    return `${this.name} (pid ${this.pid}, ${this.url}, ${this.state})`;
  }
}

/** Polls `check` until it returns a value other than undefined; throws `message()` at the deadline. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  message: () => Promise<string> | string,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(await message());
    await Bun.sleep(intervalMs);
  }
}

export class Cluster {
  readonly nodes: ClusterNode[] = [];
  readonly sql: postgres.Sql;
  readonly records: Records;
  readonly lease: LeaseSettings;
  #nextNode = 1;

  private constructor(
    /** The kiln database, which also holds the record tables. */
    readonly dbUrl: string,
    private readonly options: Required<Omit<ClusterOptions, "lease">>,
    lease: LeaseSettings,
  ) {
    this.sql = rawClient(dbUrl);
    this.records = new Records(this.sql);
    this.lease = lease;
  }

  /** Creates the record tables in `dbUrl` and starts `options.nodes` nodes on it. */
  static async start(dbUrl: string, options: ClusterOptions = {}): Promise<Cluster> {
    const cluster = new Cluster(
      dbUrl,
      {
        nodes: options.nodes ?? 3,
        concurrency: options.concurrency ?? 2,
        clusterFlags: options.clusterFlags ?? true,
        tasksDir: options.tasksDir ?? CLUSTER_TASKS_DIR,
      },
      { ...SHORT_LEASE, ...options.lease },
    );
    try {
      await createRecordTables(cluster.sql);
      // One after the other: the first one migrates the database.
      for (let i = 0; i < cluster.options.nodes; i++) await cluster.startNode();
    } catch (error) {
      await cluster.close();
      throw error;
    }
    return cluster;
  }

  /** Starts one more node. */
  async startNode(): Promise<ClusterNode> {
    const name = `node-${this.#nextNode++}`;
    const dir = mkdtempSync(join(tmpdir(), `kiln-cluster-${name}-`));
    const args = [
      "--db",
      this.dbUrl,
      "--tasks-dir",
      this.options.tasksDir,
      "--concurrency",
      String(this.options.concurrency),
    ];
    if (this.options.clusterFlags) {
      args.push(
        "--node-name",
        name,
        "--lease-ms",
        String(this.lease.leaseMs),
        "--heartbeat-ms",
        String(this.lease.heartbeatMs),
        "--rescue-ms",
        String(this.lease.rescueMs),
        "--claim-poll-ms",
        String(this.lease.claimPollMs),
      );
    }
    let server: ServingKiln;
    try {
      server = await serveKiln(KILN_FROM_SOURCE, args, dir);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      const others = this.nodes.filter((node) => node.state !== "exited").length;
      throw new Error(
        `${name} did not start (${others} other node(s) serving the database)${this.options.clusterFlags ? `; ${NEEDS_CLUSTER}` : ""}:\n${error instanceof Error ? error.message : error}`,
      );
    }
    const node = new ClusterNode(name, server, dir);
    this.nodes.push(node);
    return node;
  }

  /** The nodes still serving (not killed, not frozen). */
  live(): ClusterNode[] {
    return this.nodes.filter((node) => node.state === "up");
  }

  /** A serving node other than those given, to ask things of. */
  any(...except: ClusterNode[]): ClusterNode {
    const node = this.live().find((candidate) => !except.includes(candidate));
    if (!node) throw new Error(`no node left serving: ${this.nodes.join(", ")}`);
    return node;
  }

  /** `node` itself while it serves, else another node, to ask about it. */
  askAbout(node: ClusterNode): ClusterNode {
    return node.state === "up" ? node : this.any(node);
  }

  nodeByPid(pid: number): ClusterNode | undefined {
    return this.nodes.find((node) => node.pid === pid);
  }

  /** Creates a `steps` task through `via` (default: the first live node); 201 expected. */
  async submit(params: StepsParams, via: ClusterNode = this.any()): Promise<TaskJson> {
    const created = await api<TaskJson>(`${via.url}/tasks`, {
      json: { name: "steps", params: { ...params, record: this.dbUrl } },
    });
    if (created.status !== 201) {
      throw new Error(`POST /tasks on ${via} answered ${created.status}: ${JSON.stringify(created.body)}`);
    }
    return created.body;
  }

  /**
   * Creates `count` tasks through `via` (default: the first live node), `inFlight` requests at a
   * time; resolves with their ids in creation order.
   */
  async submitMany(count: number, params: StepsParams, via?: ClusterNode, inFlight = 16): Promise<string[]> {
    const ids: string[] = new Array(count);
    let next = 0;
    const lane = async () => {
      for (let i = next++; i < count; i = next++) ids[i] = (await this.submit(params, via)).id;
    };
    await Promise.all(Array.from({ length: Math.min(inFlight, count) }, lane));
    return ids;
  }

  async task(id: string, via: ClusterNode = this.any()): Promise<TaskJson> {
    const answer = await api<TaskJson>(`${via.url}/tasks/${id}`);
    if (answer.status !== 200) {
      throw new Error(`GET /tasks/${id} on ${via} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    }
    return answer.body;
  }

  async events(id: string, via: ClusterNode = this.any()): Promise<EventJson[]> {
    const answer = await api<{ items: EventJson[] }>(`${via.url}/tasks/${id}/events?limit=500`);
    return answer.body.items;
  }

  /** The task, its events and its record rows, for a failure message. */
  async describe(id: string, via?: ClusterNode): Promise<string> {
    const parts: string[] = [];
    try {
      parts.push(`task: ${JSON.stringify(await this.task(id, via))}`);
      const events = await this.events(id, via);
      parts.push(
        `events:\n${events.map((event) => `  ${event.at} ${event.from} -> ${event.to} ${event.action}${event.reason ? ` (${event.reason})` : ""}`).join("\n")}`,
      );
    } catch (error) {
      parts.push(`(could not read the task: ${error})`);
    }
    try {
      const runs = await this.records.runs(id);
      parts.push(
        `runs: ${runs.map((run) => `pid ${run.nodePid} attempt ${run.attempt} from step ${run.resumedFrom}`).join("; ") || "none"}`,
      );
      parts.push(`last step recorded: ${await this.records.lastStep(id)}`);
    } catch (error) {
      parts.push(`(could not read the record tables: ${error})`);
    }
    parts.push(this.describeNodes());
    return parts.join("\n");
  }

  /** Every node, with the end of its stderr and its last warnings and errors, for a failure message. */
  describeNodes(lastLines = 8): string {
    const parts = [`nodes: ${this.nodes.join(", ")}`];
    for (const node of this.nodes) {
      if (node.stderr.trim())
        parts.push(`${node.name} stderr (end):\n${node.stderr.trim().split("\n").slice(-5).join("\n")}`);
      const warnings = node.server.lines.filter((line) => /"level":"(warn|error)"/.test(line));
      if (warnings.length > 0)
        parts.push(
          `${node.name} warnings and errors (last ${lastLines} of ${warnings.length}):\n${warnings.slice(-lastLines).join("\n")}`,
        );
    }
    return parts.join("\n");
  }

  /** Polls GET /tasks/:id until its status is one of `statuses`; the message shows the task and its events. */
  async waitForStatus(
    id: string,
    statuses: string | string[],
    timeoutMs: number,
    via?: () => ClusterNode,
  ): Promise<TaskJson> {
    const wanted = typeof statuses === "string" ? [statuses] : statuses;
    const started = Date.now();
    return eventually(
      async () => {
        const task = await this.task(id, via?.()).catch(() => undefined);
        return task && wanted.includes(task.status) ? task : undefined;
      },
      timeoutMs,
      async () =>
        `task ${id} was not ${wanted.join(" or ")} within ${timeoutMs} ms (waited ${Date.now() - started} ms)\n${await this.describe(id, via?.())}`,
    );
  }

  /**
   * Waits until every task in `ids` has one of `statuses`, listing them with GET /tasks (500 a
   * page) rather than one GET each: cheap enough for a thousand tasks.
   */
  async waitForAll(
    ids: string[],
    statuses: string | string[],
    timeoutMs: number,
  ): Promise<Map<string, TaskJson>> {
    const wanted = typeof statuses === "string" ? [statuses] : statuses;
    const pending = new Set(ids);
    let last = new Map<string, TaskJson>();
    return eventually(
      async () => {
        last = await this.allTasks().catch(() => last);
        for (const id of pending) {
          const status = last.get(id)?.status;
          if (status && wanted.includes(status)) pending.delete(id);
        }
        return pending.size === 0 ? last : undefined;
      },
      timeoutMs,
      async () => {
        const byStatus = new Map<string, number>();
        for (const id of pending) {
          const status = last.get(id)?.status ?? "missing";
          byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
        }
        const first = [...pending][0];
        const duplicates = await this.records.duplicateCompletions().catch(() => []);
        const twice = duplicates.length > 0 ? ` (${duplicates.length} second completion(s) recorded)` : "";
        return `${pending.size} of ${ids.length} tasks were not ${wanted.join(" or ")} within ${timeoutMs} ms (${[...byStatus].map(([status, count]) => `${count} ${status}`).join(", ")})${twice}; the first of them:\n${first ? await this.describe(first) : ""}`;
      },
      500,
    );
  }

  /** Waits until at least `count` of `ids` have `status`; resolves with those ids. */
  async waitForCount(ids: string[], status: string, count: number, timeoutMs: number): Promise<string[]> {
    const wanted = new Set(ids);
    let seen: string[] = [];
    return eventually(
      async () => {
        const tasks = await this.allTasks().catch(() => undefined);
        if (!tasks) return undefined;
        seen = [...tasks.values()]
          .filter((task) => wanted.has(task.id) && task.status === status)
          .map((task) => task.id);
        return seen.length >= count ? seen : undefined;
      },
      timeoutMs,
      () => `${seen.length} of the ${ids.length} tasks were ${status} after ${timeoutMs} ms, not ${count}`,
    );
  }

  /** Every task, by id, from GET /tasks. */
  async allTasks(via: ClusterNode = this.any()): Promise<Map<string, TaskJson>> {
    const tasks = new Map<string, TaskJson>();
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
      const page = await api<{ items: TaskJson[]; nextCursor: string | null }>(
        `${via.url}/tasks?limit=500${query}`,
      );
      if (page.status !== 200) throw new Error(`GET /tasks on ${via} answered ${page.status}`);
      for (const task of page.body.items) tasks.set(task.id, task);
      cursor = page.body.nextCursor;
    } while (cursor);
    return tasks;
  }

  /** GET /nodes of `via`; a clear error when the engine has no such route. */
  async listNodes(via: ClusterNode = this.any()): Promise<NodeJson[]> {
    const answer = await api<{ items: NodeJson[] }>(`${via.url}/nodes`).catch((error) => {
      throw new Error(`GET /nodes on ${via} failed: ${error}`);
    });
    if (answer.status !== 200 || !Array.isArray(answer.body?.items)) {
      throw new Error(
        `GET /nodes on ${via} answered ${answer.status} ${JSON.stringify(answer.body)}; ${NEEDS_CLUSTER}`,
      );
    }
    return answer.body.items;
  }

  /** The cluster node behind a node id of GET /nodes and the task JSON (`<name>/<8 hex>`). */
  async nodeById(id: string): Promise<ClusterNode | undefined> {
    const item = (await this.listNodes()).find((node) => node.id === id);
    if (item) return this.nodeByPid(item.pid);
    // A dead node may be gone from the list already: its name is the id's first part.
    const name = id.slice(0, id.lastIndexOf("/"));
    return this.nodes.find((node) => node.name === name);
  }

  /**
   * The node running a task, from the task's `node` (the multi-node engine's field), checked
   * against the process that recorded the task's latest step.
   */
  async nodeRunning(id: string): Promise<ClusterNode> {
    const task = await this.task(id);
    if (!("node" in task))
      throw new Error(`the task JSON has no "node" field; ${NEEDS_CLUSTER}: ${JSON.stringify(task)}`);
    if (task.status !== "RUNNING" || !task.node) {
      throw new Error(`task ${id} is not running on a node:\n${await this.describe(id)}`);
    }
    const node = await this.nodeById(task.node);
    if (!node)
      throw new Error(`task ${id} runs on node ${task.node}, which is none of ${this.nodes.join(", ")}`);
    return node;
  }

  /** The node whose process recorded the task's latest step (works without the `node` field). */
  async nodeOfLastStep(id: string): Promise<ClusterNode | undefined> {
    const steps = await this.records.steps(id);
    const last = steps.at(-1);
    return last ? this.nodeByPid(last.nodePid) : undefined;
  }

  /**
   * Waits for the first run of a task that started after `afterMs` in another process than
   * `notPid` (it was taken over); `timeoutMs` is generous, the caller asserts the bound itself.
   */
  async runElsewhere(id: string, notPid: number, afterMs: number, timeoutMs: number): Promise<RunRow> {
    return eventually(
      async () => (await this.records.runs(id)).find((run) => run.nodePid !== notPid && run.atMs >= afterMs),
      timeoutMs,
      async () =>
        `task ${id} did not start again elsewhere than pid ${notPid} within ${timeoutMs} ms\n${await this.describe(id)}`,
      50,
    );
  }

  /** The node's id (`<name>/<8 hex>`), from GET /nodes. */
  async nodeId(node: ClusterNode): Promise<string> {
    const item = (await this.listNodes(this.askAbout(node))).find((listed) => listed.pid === node.pid);
    if (!item) throw new Error(`GET /nodes does not list ${node}`);
    return item.id;
  }

  /** Of `ids`, the tasks RUNNING on `node` (by the task JSON's `node`). */
  async runningOn(node: ClusterNode, ids: string[]): Promise<string[]> {
    const id = await this.nodeId(node);
    const tasks = await this.allTasks(this.askAbout(node));
    const wanted = new Set(ids);
    return [...tasks.values()]
      .filter((task) => wanted.has(task.id) && task.status === "RUNNING" && task.node === id)
      .map((task) => task.id);
  }

  /**
   * Creates tasks through `node`, one at a time, each waited for until RUNNING, until `node`
   * runs `want` of them. Which node claims a task is a race `node` may lose many times in a
   * row: the tasks other nodes take are kept while at most `max` are kept in all (keep `max`
   * within what the other nodes can run, so that the tasks of `node` find a free slot at once
   * when it dies), and stopped beyond that, so that the next one may land on `node`. Resolves
   * with the ids kept (every one of them left running) and those running on `node`.
   */
  async loadUntilRunningOn(
    node: ClusterNode,
    params: StepsParams,
    want: number,
    max: number,
    tries = 40,
  ): Promise<{ ids: string[]; on: string[] }> {
    const ids: string[] = [];
    const tookBy: string[] = [];
    let on: string[] = [];
    for (let tried = 0; tried < tries; tried++) {
      const id = (await this.submit(params, node)).id;
      const task = await this.waitForStatus(id, "RUNNING", 20_000);
      tookBy.push(task.node ?? "none");
      ids.push(id);
      on = await this.runningOn(node, ids);
      if (on.length >= want) return { ids, on };
      if (!on.includes(id) && ids.length - on.length > max - want) {
        await this.stopTask(id, node);
        ids.pop();
      }
    }
    throw new Error(
      `${node} ran ${on.length} of ${tries} tasks created through it, not ${want}; the nodes that took them: ${JSON.stringify(tookBy)}`,
    );
  }

  /** Stops a task through `via` and waits until it is STOPPED (its slot free again). */
  async stopTask(id: string, via: ClusterNode): Promise<void> {
    const answer = await this.control(id, "stop", via);
    if (answer.status !== 200 && answer.status !== 202) {
      throw new Error(
        `POST /tasks/${id}/stop on ${via} answered ${answer.status}: ${JSON.stringify(answer.body)}`,
      );
    }
    await this.waitForStatus(id, "STOPPED", 20_000);
  }

  /** Waits until at least `count` of `ids` are RUNNING on `node`; resolves with them. */
  async waitForRunningOn(
    node: ClusterNode,
    ids: string[],
    count: number,
    timeoutMs: number,
  ): Promise<string[]> {
    return eventually(
      async () => {
        const running = await this.runningOn(node, ids);
        return running.length >= count ? running : undefined;
      },
      timeoutMs,
      async () =>
        `fewer than ${count} of the tasks ran on ${node} within ${timeoutMs} ms; tasks: ${JSON.stringify(
          [...(await this.allTasks()).values()].map((task) => [task.id, task.status, task.node]),
        )}`,
    );
  }

  /**
   * The PostgreSQL backends serving `node`'s connections, with their last query: matched by the
   * client port of each backend against the TCP sockets the node's process holds.
   */
  async backendsOf(node: ClusterNode): Promise<{ pid: number; query: string }[]> {
    const ports = localPorts(node.pid);
    const rows = await this.sql<{ pid: number; query: string; client_port: number | null }[]>`
      SELECT pid, query, client_port FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid()`;
    return rows
      .filter((row) => row.client_port !== null && ports.has(row.client_port))
      .map((row) => ({ pid: row.pid, query: row.query }));
  }

  /** Waits until the task has recorded at least `step` steps. */
  async waitForStep(id: string, step: number, timeoutMs: number): Promise<number> {
    return eventually(
      async () => {
        const last = await this.records.lastStep(id);
        return last >= step ? last : undefined;
      },
      timeoutMs,
      async () => `task ${id} did not reach step ${step} within ${timeoutMs} ms\n${await this.describe(id)}`,
      50,
    );
  }

  /** POST /tasks/:id/<action> on `via`; returns the status code and the body. */
  async control(
    id: string,
    action: "pause" | "resume" | "stop" | "restart",
    via: ClusterNode = this.any(),
    waitMs?: number,
  ): Promise<{ status: number; body: { task?: TaskJson } & Record<string, unknown> }> {
    const wait = waitMs === undefined ? "" : `?wait=${waitMs}`;
    return api(`${via.url}/tasks/${id}/${action}${wait}`, { method: "POST" });
  }

  /** Completion rows are one per task and no second completion was attempted, for every id. */
  async assertCompletedOnce(ids: string[]): Promise<void> {
    const duplicates = await this.records.duplicateCompletions();
    if (duplicates.length > 0) {
      throw new Error(
        `${duplicates.length} second completion(s): ${duplicates
          .slice(0, 5)
          .map((row) => `${row.taskId} by pid ${row.nodePid}`)
          .join(", ")}\n${await this.describe(duplicates[0]?.taskId ?? "")}`,
      );
    }
    const completions = await this.records.completions();
    const missing = ids.filter((id) => !completions.has(id));
    if (missing.length > 0) {
      throw new Error(
        `${missing.length} of ${ids.length} tasks have no completion row; the first:\n${await this.describe(missing[0] ?? "")}`,
      );
    }
  }

  /** Kills every node still running, closes the client and removes the nodes' directories. */
  async close(): Promise<void> {
    await Promise.all(this.nodes.filter((node) => node.state !== "exited").map((node) => node.kill()));
    for (const node of this.nodes) rmSync(node.dir, { recursive: true, force: true });
    await this.sql.end({ timeout: 5 }).catch(() => {});
  }
}

/** The local TCP ports of the sockets a process holds (from /proc: its fds and the socket tables). */
function localPorts(pid: number): Set<number> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode) inodes.add(inode);
    } catch {
      // Closed meanwhile.
    }
  }
  const ports = new Set<number>();
  for (const table of ["tcp", "tcp6"]) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      const inode = fields[9];
      if (!local || !inode || !inodes.has(inode)) continue;
      ports.add(Number.parseInt(local.slice(local.lastIndexOf(":") + 1), 16));
    }
  }
  return ports;
}

/**
 * For the top of a cluster test file: a database of its own (dropped after the file), and a
 * function starting a cluster on it that is closed after each test.
 */
export function clusterOnTestDatabase(): (options?: ClusterOptions) => Promise<Cluster> {
  let database: TestDatabase | undefined;
  const started: Cluster[] = [];
  beforeAll(async () => {
    database = await testDatabase();
  });
  afterEach(async () => {
    for (const cluster of started.splice(0)) await cluster.close();
  });
  afterAll(async () => {
    await database?.drop();
  });
  return async (options) => {
    if (!database) throw new Error("no test database");
    const cluster = await Cluster.start(database.url, options);
    started.push(cluster);
    return cluster;
  };
}
