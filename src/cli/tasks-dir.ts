import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Logger, TaskManager } from "../engine/index.ts";
import { ConfigError } from "./config.ts";

const TASK_FILE = /\.(ts|js|mjs)$/;

interface BuildMessage {
  message: string;
  position?: { line: number; column: number } | null;
}

function isBuildMessage(value: unknown): value is BuildMessage {
  return typeof value === "object" && value !== null && typeof (value as BuildMessage).message === "string";
}

/**
 * One line saying why a task file did not load. Bun reports a syntax error as an AggregateError
 * whose message only counts the errors ("3 errors building …"), so the first one is named with
 * its position; a module may also throw something that is not an Error at all.
 */
export function describeLoadError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0 && isBuildMessage(error.errors[0])) {
    const first = error.errors[0];
    const at = first.position ? ` at line ${first.position.line}, column ${first.position.column}` : "";
    const more = error.errors.length > 1 ? ` (and ${error.errors.length - 1} more)` : "";
    return `syntax error${at}: ${first.message}${more}`;
  }
  if (error instanceof Error) return error.message.split("\n")[0] || error.name;
  let shown: string;
  try {
    shown = JSON.stringify(error) ?? String(error);
  } catch {
    shown = String(error);
  }
  return `importing it threw ${shown}`;
}

/** Loads every *.ts / *.js / *.mjs file of the tasks directory; a file that fails stops start-up. */
export async function loadTasksDir(manager: TaskManager, dir: string, logger: Logger): Promise<void> {
  let files: string[];
  try {
    files = readdirSync(dir).filter((file) => TASK_FILE.test(file) && !file.endsWith(".d.ts"));
  } catch (error) {
    throw new ConfigError(`--tasks-dir ${dir}: ${describeLoadError(error)}`);
  }
  for (const file of files.sort()) {
    const path = resolve(join(dir, file));
    let names: string[];
    try {
      names = await manager.load(pathToFileURL(path));
    } catch (error) {
      throw new ConfigError(`task file ${path}: ${describeLoadError(error)}`);
    }
    if (names.length === 0) {
      throw new ConfigError(`task file ${path}: it exports no BaseTask subclass with a static taskName`);
    }
    logger.info("task file loaded", { file: path, tasks: names });
  }
}
