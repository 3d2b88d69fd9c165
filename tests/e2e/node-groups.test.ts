// The nodes page's grouping of RUNNING tasks under their nodes (pure logic, no browser).
import { describe, expect, test } from "bun:test";
import { groupByNode, nodeName } from "../../src/dashboard/client/node-groups.ts";
import type { NodeJson, TaskJson } from "../../src/dashboard/client/types.ts";
import { TASK_EXAMPLE } from "../../src/http/examples.ts";

const node = (id: string, fields: Partial<NodeJson> = {}): NodeJson => ({
  id,
  name: nodeName(id),
  host: "h",
  pid: 1,
  startedAt: "2026-01-05T09:00:00.000Z",
  lastHeartbeatAt: "2026-01-05T09:30:00.000Z",
  heartbeatAgeMs: 0,
  status: "alive",
  concurrency: 2,
  running: 0,
  leader: false,
  ...fields,
});

const task = (id: string, fields: Partial<TaskJson>): TaskJson =>
  ({ ...TASK_EXAMPLE, id, status: "RUNNING", node: null, ...fields }) as TaskJson;

describe("groupByNode", () => {
  test("tasks go under the node their `node` names, in the nodes' order, oldest start first", () => {
    const nodes = [node("a/1", { leader: true }), node("b/2")];
    const { groups, elsewhere } = groupByNode(nodes, [
      task("t1", { node: "b/2", startTime: "2026-01-05T09:10:00.000Z" }),
      task("t2", { node: "a/1" }),
      task("t3", { node: "b/2", startTime: "2026-01-05T09:05:00.000Z" }),
      task("t4", { node: "gone/9" }),
      task("t5", { node: "a/1", status: "PAUSED" }),
    ]);
    expect(groups.map((group) => [group.node.id, group.tasks.map((t) => t.id)])).toEqual([
      ["a/1", ["t2"]],
      ["b/2", ["t3", "t1"]],
    ]);
    expect(elsewhere.map((t) => t.id)).toEqual(["t4"]);
  });

  test("a task without a node belongs to the only node (SQLite); with several it is elsewhere", () => {
    const one = groupByNode([node("solo/1")], [task("t1", {})]);
    expect(one.groups[0]?.tasks.map((t) => t.id)).toEqual(["t1"]);
    expect(one.elsewhere).toEqual([]);
    const two = groupByNode([node("a/1"), node("b/2")], [task("t1", {})]);
    expect(two.groups.every((group) => group.tasks.length === 0)).toBe(true);
    expect(two.elsewhere.map((t) => t.id)).toEqual(["t1"]);
  });

  test("nodeName is the part before the id's suffix", () => {
    expect(nodeName("node-1/3f9a0c1e")).toBe("node-1");
    expect(nodeName("plain")).toBe("plain");
  });
});
