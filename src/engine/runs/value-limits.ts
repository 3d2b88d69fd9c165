import { DEFAULT_VALUE_LIMITS, type ValueLimits } from "../../task/index.ts";
import { formatCount, isByteLimit } from "../../task/json-value.ts";

/** The smallest limit accepted: room for a useful value, and for the marker of a cut log line. */
export const MIN_VALUE_LIMIT_BYTES = 1_024;
/** The largest: past this a single row is no longer something a page can carry. */
export const MAX_VALUE_LIMIT_BYTES = 1 << 30;

/** The limits of a manager: its options where given, the defaults otherwise; out of range throws. */
export function resolveValueLimits(options: Partial<ValueLimits>): ValueLimits {
  const limits = { ...DEFAULT_VALUE_LIMITS };
  for (const key of Object.keys(limits) as (keyof ValueLimits)[]) {
    const value = options[key];
    if (value === undefined) continue;
    if (!isByteLimit(value) || value < MIN_VALUE_LIMIT_BYTES || value > MAX_VALUE_LIMIT_BYTES) {
      throw new Error(
        `${key} must be an integer from ${formatCount(MIN_VALUE_LIMIT_BYTES)} to ${formatCount(MAX_VALUE_LIMIT_BYTES)} (bytes), got ${String(value)}`,
      );
    }
    limits[key] = value;
  }
  return limits;
}
