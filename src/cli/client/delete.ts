import { positionals } from "./args.ts";
import { type Command, parseClientArgs } from "./command.ts";
import { taskPath } from "./tasks.ts";

export const deleteCommand: Command = {
  name: "delete",
  synopsis: "<id>",
  summary: "Delete a task that has ended, with its history and logs; a live task must be stopped first.",
  async run(args, env) {
    const parsed = parseClientArgs(this, args, env, {}, "");
    if (!parsed) return 0;
    const [id] = positionals(parsed.positionals, ["the task id"], parsed.usage);
    await parsed.client.request("DELETE", taskPath(id));
    console.log(`${id} deleted`);
    return 0;
  },
};
