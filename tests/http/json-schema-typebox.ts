// A JSON Schema from the OpenAPI document as a TypeBox schema, so Value.Check can judge a value
// against it. It knows the keywords kiln's document uses and throws on any other, so nothing
// in a schema is silently left unchecked.
import { type TSchema, Type } from "@sinclair/typebox";

type Json = Record<string, unknown>;

/** Words that describe a schema without constraining its values. */
const ANNOTATIONS = new Set(["description", "title", "default", "examples", "example", "error"]);
const CONSTRAINTS: Record<string, readonly string[]> = {
  string: ["minLength", "maxLength", "format", "pattern"],
  integer: ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"],
  number: ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"],
  array: ["items", "minItems", "maxItems"],
  object: ["properties", "required", "additionalProperties", "patternProperties", "minProperties"],
  boolean: [],
  null: [],
};
/** Wildcard key patterns of a record: any property name. */
const ANY_KEY = new Set(["^(.*)$", "^.*$"]);

const isJson = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function pick(schema: Json, keys: readonly string[]): Json {
  return Object.fromEntries(keys.filter((key) => key in schema).map((key) => [key, schema[key]]));
}

function refuseUnknown(schema: Json, allowed: readonly string[], where: string): void {
  const unknown = Object.keys(schema).filter((key) => !ANNOTATIONS.has(key) && !allowed.includes(key));
  if (unknown.length > 0) throw new Error(`${where}: no conversion for ${unknown.join(", ")}`);
}

function objectSchema(schema: Json, where: string): TSchema {
  const required = new Set((schema.required as string[] | undefined) ?? []);
  const patterns = schema.patternProperties;
  if (isJson(patterns)) {
    const [pattern, value, ...more] = Object.entries(patterns).flat();
    if (more.length > 0 || !ANY_KEY.has(String(pattern))) throw new Error(`${where}: unsupported keys`);
    return Type.Record(Type.String(), fromJsonSchema(value, `${where}.patternProperties`));
  }
  const properties = Object.fromEntries(
    Object.entries((schema.properties as Json | undefined) ?? {}).map(([key, value]) => {
      const property = fromJsonSchema(value, `${where}.properties.${key}`);
      return [key, required.has(key) ? property : Type.Optional(property)];
    }),
  );
  const extra = schema.additionalProperties;
  const additionalProperties =
    extra === undefined || typeof extra === "boolean"
      ? extra
      : fromJsonSchema(extra, `${where}.additionalProperties`);
  return Type.Object(properties, {
    ...(additionalProperties === undefined ? {} : { additionalProperties }),
    ...pick(schema, ["minProperties"]),
  });
}

function typed(type: string, schema: Json, where: string): TSchema {
  const allowed = CONSTRAINTS[type];
  if (!allowed) throw new Error(`${where}: unknown type ${type}`);
  refuseUnknown(schema, ["type", ...allowed], where);
  const options = pick(schema, allowed);
  switch (type) {
    case "string":
      return Type.String(options);
    case "integer":
      return Type.Integer(options);
    case "number":
      return Type.Number(options);
    case "boolean":
      return Type.Boolean();
    case "null":
      return Type.Null();
    case "array":
      return Type.Array(
        fromJsonSchema(schema.items ?? {}, `${where}.items`),
        pick(schema, ["minItems", "maxItems"]),
      );
    default:
      return objectSchema(schema, where);
  }
}

export function fromJsonSchema(schema: unknown, where = "$"): TSchema {
  if (!isJson(schema)) throw new Error(`${where}: not a schema`);
  if ("const" in schema) {
    refuseUnknown(schema, ["const", "type"], where);
    return Type.Literal(schema.const as string | number | boolean);
  }
  if (Array.isArray(schema.enum)) {
    refuseUnknown(schema, ["enum", "type"], where);
    const values = schema.enum as (string | number | boolean | null)[];
    return Type.Union(values.map((value) => (value === null ? Type.Null() : Type.Literal(value))));
  }
  const members = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(members)) {
    // oneOf is checked as anyOf: enough to tell whether an example fits any of the shapes.
    const { anyOf: _any, oneOf: _one, ...rest } = schema;
    refuseUnknown(rest, [], where);
    return Type.Union(members.map((member, i) => fromJsonSchema(member, `${where}.anyOf[${i}]`)));
  }
  if (Array.isArray(schema.type)) {
    // `type: ["object", "null"]`: each type with the keywords that constrain it.
    const types = schema.type.map(String);
    refuseUnknown(schema, ["type", ...types.flatMap((type) => CONSTRAINTS[type] ?? [])], where);
    return Type.Union(
      types.map((type) => typed(type, { ...pick(schema, CONSTRAINTS[type] ?? []), type }, where)),
    );
  }
  if (typeof schema.type === "string") return typed(schema.type, schema, where);
  refuseUnknown(schema, [], where);
  return Type.Unknown();
}
