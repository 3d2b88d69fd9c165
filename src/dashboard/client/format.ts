import type { TaskJson } from "./types.ts";

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** Local time: "14:03:07" today, "2026-05-01 14:03" on another day, "—" for none. */
export function formatTime(iso: string | null, now = new Date()): string {
  if (!iso) return "—";
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return "—";
  const clock = `${pad(at.getHours())}:${pad(at.getMinutes())}`;
  if (at.toDateString() === now.toDateString()) return `${clock}:${pad(at.getSeconds())}`;
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${clock}`;
}

/** The exact local time to the millisecond, with its offset: "2026-05-01 14:03:07.042 (UTC+02:00)". */
export function formatExact(iso: string | null): string {
  if (!iso) return "";
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return "";
  const day = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
  const clock = `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}.${pad(at.getMilliseconds(), 3)}`;
  const offset = -at.getTimezoneOffset();
  const sign = offset < 0 ? "-" : "+";
  const zone = `UTC${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  return `${day} ${clock} (${zone})`;
}

const RELATIVE_UNITS: ReadonlyArray<[limitSeconds: number, seconds: number, unit: string]> = [
  [60, 1, "s"],
  [3_600, 60, "min"],
  [86_400, 3_600, "h"],
  [30 * 86_400, 86_400, "d"],
];

/**
 * How long ago (or how far ahead) a time is: "just now", "42 s ago", "3 min ago", "in 2 h",
 * "5 d ago"; a date beyond a month; "—" for none.
 */
export function formatRelative(iso: string | null, now: number): string {
  if (!iso) return "—";
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return "—";
  const ahead = at > now;
  const seconds = Math.floor(Math.abs(now - at) / 1_000);
  // Within a few seconds either way (the server's clock and this one's differ a little).
  if (seconds < 5) return "just now";
  for (const [limit, size, unit] of RELATIVE_UNITS) {
    if (seconds >= limit) continue;
    const amount = `${Math.floor(seconds / size)} ${unit}`;
    return ahead ? `in ${amount}` : `${amount} ago`;
  }
  return formatTime(iso, new Date(now));
}

/** A `datetime-local` input's value ("2030-01-05T09:30"), read as local time, as ISO 8601 UTC. */
export function localTimeToIso(value: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/.test(value)) return undefined;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}

/** "850 ms", "12.3 s", "4m 05s", "2h 03m", "3d 4h". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1_000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${pad(Math.floor(seconds % 60))}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${pad(minutes % 60)}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** From the first start to the end, or to now while the task has not ended. */
export function taskDuration(task: TaskJson, now: number): string {
  if (!task.startTime) return "—";
  const end = task.endTime ? Date.parse(task.endTime) : now;
  return formatDuration(end - Date.parse(task.startTime));
}

/** A task's progress in words: "42.5% · copying" or "12 done". */
export function progressText(progress: TaskJson["progress"]): string {
  if (!progress) return "";
  const amount = progress.percent === null ? `${progress.done} done` : `${progress.percent.toFixed(1)}%`;
  return progress.message ? `${amount} · ${progress.message}` : amount;
}

/** Indented JSON for a <pre>; undefined and null read as "—". */
export function formatJson(value: unknown): string {
  if (value === undefined || value === null) return "—";
  return JSON.stringify(value, null, 2);
}
