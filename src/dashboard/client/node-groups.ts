import type { NodeJson, TaskJson } from "./types.ts";

export interface NodeGroup {
  node: NodeJson;
  /** Its RUNNING tasks, oldest start first. */
  tasks: TaskJson[];
}

export interface NodeGroups {
  groups: NodeGroup[];
  /** RUNNING tasks no listed node claims: their node has just gone, or the list is a moment old. */
  elsewhere: TaskJson[];
}

const started = (task: TaskJson) => (task.startTime ? Date.parse(task.startTime) : 0);

/**
 * The RUNNING tasks under the node running each, in the nodes' order. A task without a node
 * (SQLite records none: there is one process) belongs to the only node when there is one.
 */
export function groupByNode(nodes: NodeJson[], tasks: TaskJson[]): NodeGroups {
  const byId = new Map(nodes.map((node) => [node.id, [] as TaskJson[]]));
  const only = nodes.length === 1 ? nodes[0]?.id : undefined;
  const elsewhere: TaskJson[] = [];
  for (const task of tasks) {
    if (task.status !== "RUNNING") continue;
    const list = byId.get(task.node ?? only ?? "");
    if (list) list.push(task);
    else elsewhere.push(task);
  }
  const sort = (list: TaskJson[]) => list.sort((a, b) => started(a) - started(b));
  return {
    groups: nodes.map((node) => ({ node, tasks: sort(byId.get(node.id) ?? []) })),
    elsewhere: sort(elsewhere),
  };
}

/** The name part of a node id (`<name>/<suffix>`), which is what a person recognises. */
export function nodeName(id: string): string {
  const slash = id.lastIndexOf("/");
  return slash > 0 ? id.slice(0, slash) : id;
}
