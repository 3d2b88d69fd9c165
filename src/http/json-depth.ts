/** How deep a request body's arrays and objects may nest. */
export const MAX_JSON_DEPTH = 128;

/**
 * True when JSON text nests arrays and objects deeper than `limit`. One pass without recursion,
 * skipping string contents, so it cannot itself overflow the stack it protects: validating and
 * describing a value thousands of levels deep recurses once per level.
 */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c /* \ */) i++;
      else if (char === 0x22 /* " */) inString = false;
    } else if (char === 0x22) {
      inString = true;
    } else if (char === 0x5b /* [ */ || char === 0x7b /* { */) {
      depth++;
      if (depth > limit) return true;
    } else if (char === 0x5d /* ] */ || char === 0x7d /* } */) {
      depth--;
    }
  }
  return false;
}
