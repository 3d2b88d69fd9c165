/** The smallest UUIDv7 of the millisecond `at`: every id created from then on sorts after it. */
export function uuidV7Floor(at: number): string {
  const hex = Math.max(0, Math.floor(at)).toString(16).padStart(12, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}

/**
 * The smallest string above every string that starts with `prefix`: its last character plus
 * one. UTF-8 keeps code point order, so this holds in byte order too (SQLite's, and PostgreSQL's
 * "C" collation of task ids). Undefined when that character has no plain successor (a
 * surrogate, or the highest code point).
 */
export function prefixSuccessor(prefix: string): string | undefined {
  const last = prefix.charCodeAt(prefix.length - 1);
  if (prefix === "" || last >= 0xd7ff) return undefined;
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}
