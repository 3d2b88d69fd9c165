import type { ProgressJson, TaskJson } from "../../http/presenters.ts";

/** Keeps one row on one line: user data may hold newlines or tabs. */
function cell(value: string): string {
  return value.replace(/[\r\n\t]+/g, " ");
}

/** Left-aligned columns separated by two spaces; `right` lists the columns to right-align. */
export function table(headers: string[], rows: string[][], right: number[] = []): string {
  const all = [headers, ...rows].map((row) => row.map(cell));
  const widths = headers.map((_, column) =>
    Math.max(...all.map((row) => Bun.stringWidth(row[column] ?? ""))),
  );
  return all
    .map((row) =>
      row
        .map((value, column) => {
          const pad = " ".repeat((widths[column] ?? 0) - Bun.stringWidth(value));
          if (right.includes(column)) return pad + value;
          return column === row.length - 1 ? value : value + pad;
        })
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** A key/value block with the values aligned; multi-line values continue under their column. */
export function block(entries: [string, string][]): string {
  const width = Math.max(...entries.map(([key]) => key.length));
  const indent = " ".repeat(width + 2);
  return entries
    .map(([key, value]) => `${key.padEnd(width)}  ${value.split("\n").join(`\n${indent}`)}`)
    .join("\n");
}

/** 850ms, 12.3s, 4m05s, 2h03m, 3d04h. */
export function duration(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)}s`;
  const pad = (n: number) => String(n).padStart(2, "0");
  const s = Math.floor(ms / 1_000);
  if (s < 3_600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3_600)}h${pad(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86_400)}d${pad(Math.floor(s / 3_600) % 24)}h`;
}

/** How long the task has run: to its end, or to now while it still runs. */
export function taskDuration(task: TaskJson, now = Date.now()): string | null {
  if (task.startTime === null) return null;
  const end = task.endTime === null ? now : Date.parse(task.endTime);
  return duration(end - Date.parse(task.startTime));
}

/** "2025-06-01 12:00:03" (UTC), short enough for a table column. */
export function shortTime(iso: string | null): string {
  return iso === null ? "-" : iso.slice(0, 19).replace("T", " ");
}

export function percent(progress: ProgressJson | null): string {
  if (progress === null) return "-";
  if (progress.percent !== null) return `${progress.percent.toFixed(1)}%`;
  return progress.total === null ? `${progress.done}/?` : `${progress.done}/${progress.total}`;
}

/** "45.0% (9/20) copying" */
export function progressText(progress: ProgressJson | null): string {
  if (progress === null) return "-";
  const count = `${progress.done}/${progress.total ?? "?"}`;
  const head = progress.percent === null ? count : `${percent(progress)} (${count})`;
  return progress.message ? `${head} ${progress.message}` : head;
}

/** Short values on one line, longer ones indented over several. */
export function jsonValue(value: unknown): string {
  const compact = JSON.stringify(value) ?? "undefined";
  return compact.length <= 72 ? compact : JSON.stringify(value, null, 2);
}

/** A task's error as "Name: message", with its stack below when the worker sent one. */
export function errorText(error: unknown): string {
  if (typeof error !== "object" || error === null) return jsonValue(error);
  const { name, message, stack } = error as { name?: unknown; message?: unknown; stack?: unknown };
  if (typeof message !== "string") return jsonValue(error);
  const head = `${typeof name === "string" ? name : "Error"}: ${message}`;
  if (typeof stack !== "string") return head;
  // A stack usually repeats the head as its first line.
  const frames = stack.split("\n").filter((line) => line.trim() !== "" && line.trim() !== head);
  return [head, ...frames.map((line) => `  ${line.trim()}`)].join("\n");
}

type JsonSchema = {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  default?: unknown;
};

function schemaType(schema: JsonSchema | undefined): string {
  if (schema === undefined) return "any";
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((value) => JSON.stringify(value)).join("|");
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return union.map(schemaType).join("|");
  if (schema.type === "array") return `${schemaType(schema.items)}[]`;
  if (Array.isArray(schema.type)) return schema.type.join("|");
  return schema.type ?? "any";
}

/**
 * "steps: integer, delayMs?: integer = 5, label?: string" from a params JSON Schema. A param
 * with a default is optional too, whatever `required` says: the server fills it in.
 */
export function paramsSummary(schema: Record<string, unknown>, max = 80): string {
  const typed = schema as JsonSchema;
  let summary: string;
  if (typed.properties) {
    const required = new Set(typed.required ?? []);
    summary = Object.entries(typed.properties)
      .map(([key, property]) => {
        const fallback = property.default === undefined ? "" : ` = ${JSON.stringify(property.default)}`;
        const optional = !required.has(key) || property.default !== undefined;
        return `${key}${optional ? "?" : ""}: ${schemaType(property)}${fallback}`;
      })
      .join(", ");
  } else {
    summary = Object.keys(schema).length === 0 ? "any" : schemaType(typed);
  }
  if (summary === "") return "{}";
  return summary.length > max ? `${summary.slice(0, max - 1)}…` : summary;
}
