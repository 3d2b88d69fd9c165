import type { NodeJson, NodeListJson } from "../../http/routes/nodes.ts";
import { positionals } from "./args.ts";
import { type Command, parseClientArgs, printJson } from "./command.ts";
import { duration, table } from "./format.ts";
import { JSON_FLAG, JSON_HELP } from "./tasks.ts";

/** The marker of the node that runs the cluster's upkeep. */
export const LEADER_MARK = "*";

/** One row of `kiln nodes`. */
export function nodeRow(node: NodeJson): string[] {
  return [
    node.name,
    node.id,
    node.status,
    node.leader ? LEADER_MARK : "",
    `${node.running}/${node.concurrency}`,
    `${duration(node.heartbeatAgeMs)} ago`,
  ];
}

export const nodesCommand: Command = {
  name: "nodes",
  synopsis: "[--json]",
  summary: "List the nodes serving the database: status, leader (*), running/concurrency, heartbeat age.",
  async run(args, env) {
    const parsed = parseClientArgs(this, args, env, JSON_FLAG, JSON_HELP);
    if (!parsed) return 0;
    positionals(parsed.positionals, [], parsed.usage);
    const { body } = await parsed.client.request<NodeListJson>("GET", "/nodes");
    if (parsed.values.json) {
      printJson(body);
      return 0;
    }
    const headers = ["NAME", "ID", "STATUS", "LEADER", "RUNNING", "HEARTBEAT"];
    console.log(table(headers, body.items.map(nodeRow), [4, 5]));
    return 0;
  },
};
