/** Epoch ms of an ISO 8601 instant. */
export function at(iso: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`not an instant: ${iso}`);
  return ms;
}

/** An instant as ISO 8601 UTC, so that a failing comparison reads as dates. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** An instant as wall-clock time in a zone, "2026-03-29 03:00:00" ("sv-SE" writes ISO order). */
export function wallClock(ms: number, timeZone: string): string {
  return new Date(ms).toLocaleString("sv-SE", { timeZone });
}
