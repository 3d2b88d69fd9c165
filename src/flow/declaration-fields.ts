/**
 * What the flow declarations' checks share: the `{ field, message }` form of a broken rule (the
 * same as the schedules'), a value described for a message, and the refusal of unknown fields, so
 * a misspelled `perSecond` is an error instead of a limit that quietly never applies.
 */

export interface FlowFieldError {
  /** Where the problem is, as the class or the body spells it: `rateLimit.perMs`, `dependsOn[2]`. */
  field: string;
  message: string;
}

export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  if (value === undefined) return "undefined";
  return Array.isArray(value) ? "an array" : `a ${typeof value}`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An integer in [min, max], or the message saying what it must be. */
export function integerProblem(value: unknown, min: number, max: number): string | null {
  if (typeof value === "number" && Number.isInteger(value) && value >= min && value <= max) return null;
  return `must be an integer from ${min} to ${max.toLocaleString("en-US")}, got ${describeValue(value)}`;
}

/** One error per field of `value` outside `allowed`, naming the field likely meant. */
export function unknownFieldErrors(
  value: Record<string, unknown>,
  allowed: readonly string[],
  meant: Record<string, string>,
  prefix: string,
): FlowFieldError[] {
  return Object.keys(value)
    .filter((key) => !allowed.includes(key))
    .map((key) => {
      const likely = meant[key];
      return {
        field: `${prefix}${key}`,
        message: `is not a field (allowed: ${allowed.join(", ")})${likely ? `; did you mean ${likely}?` : ""}`,
      };
    });
}
