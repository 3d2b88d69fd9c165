import { isTaskClass, type TaskClass } from "../task/index.ts";

/** Imports a module and hands every exported `BaseTask` subclass to `add`; the names registered. */
export async function loadTaskModule(
  module: string | URL,
  add: (cls: TaskClass, specifier: string) => { name: string },
): Promise<string[]> {
  const specifier = module instanceof URL ? module.href : module;
  const exports = (await import(specifier)) as Record<string, unknown>;
  const names: string[] = [];
  for (const value of Object.values(exports)) {
    if (!isTaskClass(value) || !Object.hasOwn(value, "taskName")) continue;
    names.push(add(value, specifier).name);
  }
  return names;
}

/**
 * The module workers import a class from: none for a class the worker entrypoint has built in,
 * else the one it declares with `static module = import.meta.url`.
 */
export function moduleOf(cls: TaskClass, preloaded: ReadonlySet<TaskClass>): string | undefined {
  if (!isTaskClass(cls)) throw new Error("only subclasses of BaseTask can be registered");
  if (preloaded.has(cls)) return undefined;
  const module = (cls as { module?: unknown }).module;
  if (typeof module !== "string") {
    throw new Error(
      `cannot tell which module defines task "${cls.taskName}": register it with manager.load(path) or give the class \`static module = import.meta.url\``,
    );
  }
  return module;
}
