import { parseArgs } from "node:util";

export interface ServeConfig {
  host: string;
  port: number;
  db: string;
  concurrency: number | undefined;
  tasksDir: string | undefined;
}

/** A configuration mistake: reported as one line, exit code 2. */
export class ConfigError extends Error {}

function integer(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined || value === "") return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${value}"`);
  }
  return parsed;
}

/** Flags win over environment variables, which win over defaults. */
export function parseServeConfig(args: string[], env: Record<string, string | undefined>): ServeConfig {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof options }>>;
  const options = {
    host: { type: "string" },
    port: { type: "string" },
    db: { type: "string" },
    concurrency: { type: "string" },
    "tasks-dir": { type: "string" },
  } as const;
  try {
    parsed = parseArgs({ args, options, allowPositionals: false, strict: true });
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const values = parsed.values;
  return {
    host: values.host ?? env.KILN_HOST ?? "127.0.0.1",
    port: integer(values.port ?? env.KILN_PORT, "--port", 0, 65_535) ?? 3000,
    db: values.db ?? env.KILN_DB ?? "./kiln.db",
    concurrency: integer(values.concurrency ?? env.KILN_CONCURRENCY, "--concurrency", 1, 1_024),
    tasksDir: values["tasks-dir"] ?? env.KILN_TASKS_DIR,
  };
}
