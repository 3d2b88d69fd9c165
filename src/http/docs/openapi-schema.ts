// Corrections to the JSON Schemas that @elysiajs/openapi generates from the routes' TypeBox
// schemas, applied to the OpenAPI document only: the schemas that validate requests stay as they are.

type Schema = Record<string, unknown>;

const isObject = (value: unknown): value is Schema =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Elysia's `t.Integer()` and `t.Numeric()` also accept a numeric string, so that a query value
 * (always text) can be coerced: `anyOf: [{ type: "string", format: "integer" }, { type:
 * "integer" }]`. Documented as such, Swagger UI shows `"0"` for every integer. The number is
 * what the API means (the query string is only how it travels), so the document keeps it alone.
 */
function numberOfCoercion(schema: Schema): Schema | undefined {
  const members = schema.anyOf;
  if (!Array.isArray(members) || members.length !== 2) return undefined;
  const [text, number] = members as unknown[];
  if (!isObject(text) || !isObject(number)) return undefined;
  if (text.type !== "string" || (text.format !== "integer" && text.format !== "numeric")) return undefined;
  if (number.type !== "integer" && number.type !== "number") return undefined;
  const { anyOf: _coercion, ...annotations } = schema;
  return { ...annotations, ...number };
}

/**
 * A union of literals or null (`requestedAction`) comes out as `type: ["string", "null"]` with
 * an `enum` that leaves null out, which refuses the null the type allows.
 */
function withNullInEnum(schema: Schema): Schema | undefined {
  const { type, enum: values } = schema;
  if (!Array.isArray(type) || !type.includes("null") || !Array.isArray(values)) return undefined;
  return values.includes(null) ? undefined : { ...schema, enum: [...values, null] };
}

/** A copy of `value` (a document, or any part of it) with both corrections made throughout. */
export function correctedSchemas<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => correctedSchemas(item)) as T;
  if (!isObject(value)) return value;
  const source = numberOfCoercion(value) ?? withNullInEnum(value) ?? value;
  const copy: Schema = {};
  for (const key of Object.keys(source)) copy[key] = correctedSchemas(source[key]);
  return copy as T;
}
