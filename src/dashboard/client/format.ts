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
