/**
 * A list of task ids as messages show it: at most MAX_NAMED_IDS ids, then how many more, so a
 * status reason or an error stays one short line whatever the number of ids.
 */

export const MAX_NAMED_IDS = 3;

/** `a`, `a, b`, `a, b, c`, `a, b, c and 4 more`. */
export function namedIds(ids: readonly string[], max = MAX_NAMED_IDS): string {
  const named = ids.slice(0, max).join(", ");
  return ids.length > max ? `${named} and ${ids.length - max} more` : named;
}
