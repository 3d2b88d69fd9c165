// Several nodes in this one process on one fresh PostgreSQL database, each a TaskManager with a
// store of its own: for cluster tests that need no process to die. Ready once every node lists
// them all and has heard so from its heartbeat (a node alone sends no news to the others).
import { PostgresTaskStore, type TaskManagerOptions } from "../../src/index.ts";
import { startManager, type TestManager } from "../helpers.ts";
import { testDatabase } from "../store/postgres/database.ts";

export interface InProcessNodes {
  nodes: TestManager[];
  close(): Promise<void>;
}

export async function startInProcessNodes(
  names: readonly string[],
  options: Pick<TaskManagerOptions, "cluster" | "concurrency"> & { modules?: readonly URL[] },
): Promise<InProcessNodes> {
  const database = await testDatabase();
  const stores: PostgresTaskStore[] = [];
  const nodes: TestManager[] = [];
  const close = async () => {
    for (const node of nodes) await node.close();
    for (const store of stores) await store.close();
    await database.drop();
  };
  try {
    for (const name of names) {
      const store = new PostgresTaskStore({ url: database.url, max: 4 });
      stores.push(store);
      const node = await startManager({
        store,
        nodeName: name,
        cluster: options.cluster,
        concurrency: options.concurrency,
      });
      nodes.push(node);
      for (const module of options.modules ?? []) await node.manager.load(module);
    }
    const deadline = Date.now() + 10_000;
    for (const node of nodes) {
      while ((await node.manager.nodes()).length < names.length) {
        if (Date.now() > deadline) throw new Error("the nodes never saw each other");
        await Bun.sleep(50);
      }
    }
    await Bun.sleep((options.cluster?.heartbeatMs ?? 5_000) * 3);
  } catch (error) {
    await close();
    throw error;
  }
  return { nodes, close };
}
