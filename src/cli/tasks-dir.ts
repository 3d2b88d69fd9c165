import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Logger, TaskManager } from "../engine/index.ts";
import { ConfigError } from "./config.ts";

const TASK_FILE = /\.(ts|js|mjs)$/;

/** Where Bun's transpiler found a syntax error. */
interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

/** What Bun throws for a syntax error: a `BuildMessage` (an Error) carrying the position. */
interface BuildMessage {
  message: string;
  position?: Partial<SourcePosition> | null;
}

function isBuildMessage(value: unknown): value is BuildMessage {
  return typeof value === "object" && value !== null && typeof (value as BuildMessage).message === "string";
}

function positionOf(message: BuildMessage): SourcePosition | undefined {
  const at = message.position;
  if (!at || typeof at.line !== "number" || typeof at.column !== "number") return undefined;
  return { file: typeof at.file === "string" ? at.file : "", line: at.line, column: at.column };
}

/**
 * The syntax errors in a thrown value, or undefined when it is something else. Bun throws one
 * error as a `BuildMessage` with its position, and several as an AggregateError of them whose
 * own message only counts them ("3 errors building …").
 */
function syntaxErrors(error: unknown): BuildMessage[] | undefined {
  if (error instanceof AggregateError && error.errors.length > 0 && error.errors.every(isBuildMessage)) {
    return error.errors as BuildMessage[];
  }
  if (error instanceof Error && error.name === "BuildMessage") return [error];
  return undefined;
}

/**
 * What follows "task file " in the one line saying why `path` did not load. A syntax error is
 * given as `file:line:column: syntax error: message`, the form editors and terminals link to;
 * when it is in a module the task file imports, that module is named. A module may also throw
 * something that is not an Error at all.
 */
export function describeLoadError(path: string, error: unknown): string {
  const errors = syntaxErrors(error);
  if (errors?.[0]) {
    const first = errors[0];
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
    const at = positionOf(first);
    if (!at) return `${path}: syntax error: ${first.message}${more}`;
    const where = `${at.file || path}:${at.line}:${at.column}`;
    if (at.file && at.file !== path) return `${path}: syntax error in ${where}: ${first.message}${more}`;
    return `${where}: syntax error: ${first.message}${more}`;
  }
  return `${path}: ${describeThrown(error)}`;
}

function describeThrown(error: unknown): string {
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
    throw new ConfigError(`--tasks-dir ${dir}: ${describeThrown(error)}`);
  }
  for (const file of files.sort()) {
    const path = resolve(join(dir, file));
    let names: string[];
    try {
      names = await manager.load(pathToFileURL(path));
    } catch (error) {
      throw new ConfigError(`task file ${describeLoadError(path, error)}`);
    }
    if (names.length === 0) {
      throw new ConfigError(`task file ${path}: it exports no BaseTask subclass with a static taskName`);
    }
    logger.info("task file loaded", { file: path, tasks: names });
  }
}
