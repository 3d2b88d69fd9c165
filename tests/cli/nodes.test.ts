// `kiln nodes` as a child process against a real server on 127.0.0.1 (SQLite: one node).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { describeTask } from "../../src/cli/client/tasks.ts";
import { TASK_EXAMPLE } from "../../src/http/examples.ts";
import type { NodeListJson, TaskJson } from "../../src/http/index.ts";
import { untilStatus } from "../helpers.ts";
import { body, startServer, type TestServer } from "../http/server.ts";
import { kiln, lines } from "./run.ts";

let server: TestServer;
let env: Record<string, string>;
beforeAll(async () => {
  server = await startServer({ nodeName: "cli-node", concurrency: 2 });
  env = { KILN_URL: server.base };
});
afterAll(async () => {
  await server.stop();
});

describe("kiln nodes", () => {
  test("a table: name, id, status, leader mark, running/concurrency, heartbeat age", async () => {
    const task = await body<TaskJson>(await server.call("/tasks", { json: { name: "hang" } }));
    await untilStatus(server.manager, task.id, ["RUNNING"]);
    try {
      const run = await kiln(["nodes"], env);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      const [header, row, ...rest] = lines(run.stdout);
      expect(header?.split(/ {2,}/)).toEqual(["NAME", "ID", "STATUS", "LEADER", "RUNNING", "HEARTBEAT"]);
      expect(rest).toEqual([]);
      const cells = row?.split(/ {2,}/);
      expect(cells?.slice(0, 5)).toEqual(["cli-node", server.manager.node.id, "alive", "*", "1/2"]);
      expect(cells?.[5]).toMatch(/^\d+ms ago$|^\d+\.\d+s ago$/);
    } finally {
      await server.manager.stop(task.id);
      await untilStatus(server.manager, task.id, ["STOPPED"]);
    }
  });

  test("--json prints the server's document", async () => {
    const run = await kiln(["nodes", "--json"], env);
    expect(run.code).toBe(0);
    const printed = JSON.parse(run.stdout) as NodeListJson;
    expect(printed.items).toHaveLength(1);
    expect(printed.items[0]).toMatchObject({
      id: server.manager.node.id,
      name: "cli-node",
      pid: process.pid,
      leader: true,
      running: 0,
      concurrency: 2,
    });
  });

  test("kiln help lists it; a stray argument is a usage error (exit 2)", async () => {
    expect((await kiln(["help"])).stdout).toMatch(/^ {2}nodes {2,}List the nodes serving the database/m);
    const run = await kiln(["nodes", "extra"], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("usage: kiln nodes [--json]");
  });

  test("kiln show names the node of a task that has one, and leaves the line out otherwise", () => {
    const running = { ...TASK_EXAMPLE, status: "RUNNING", node: "node-2/b71d22a4" } as TaskJson;
    expect(describeTask(running)).toMatch(/^node +node-2\/b71d22a4$/m);
    expect(describeTask({ ...running, node: null })).not.toMatch(/^node /m);
  });
});
