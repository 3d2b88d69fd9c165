// Turns a task name's params JSON Schema (from GET /task-types) into form fields, the form's
// values back into params, and the API's validation issues into messages per field.

export type FieldKind = "string" | "integer" | "number" | "boolean" | "choice" | "json";

export interface FieldSpec {
  key: string;
  kind: FieldKind;
  /** Must be filled in: required by the schema and without a default the server would apply. */
  required: boolean;
  description: string | undefined;
  defaultValue: unknown;
  choices: string[];
  minimum: number | undefined;
  maximum: number | undefined;
}

export interface FormSpec {
  fields: FieldSpec[];
  /**
   * The schema does not describe an object of named fields (or says nothing at all): the
   * params are typed as one JSON document.
   */
  freeform: boolean;
}

/** The key of the field that holds the whole params document in a freeform form. */
export const PARAMS_FIELD = "params";

type Schema = Record<string, unknown>;

const isSchema = (value: unknown): value is Schema =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const numberOr = (value: unknown): number | undefined => (typeof value === "number" ? value : undefined);

/** The string values a schema allows, when it is a closed list of them (enum or union of consts). */
function choicesOf(schema: Schema): string[] | undefined {
  if (Array.isArray(schema.enum) && schema.enum.every((value) => typeof value === "string")) {
    return schema.enum as string[];
  }
  const members = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(members) && members.length > 0) {
    const values = members.map((member) => (isSchema(member) ? member.const : undefined));
    if (values.every((value) => typeof value === "string")) return values as string[];
  }
  return undefined;
}

function kindOf(schema: Schema): { kind: FieldKind; choices: string[] } {
  const choices = choicesOf(schema);
  if (choices) return { kind: "choice", choices };
  switch (schema.type) {
    case "string":
      return { kind: "string", choices: [] };
    case "integer":
      return { kind: "integer", choices: [] };
    case "number":
      return { kind: "number", choices: [] };
    case "boolean":
      return { kind: "boolean", choices: [] };
    default:
      return { kind: "json", choices: [] };
  }
}

export function formFromSchema(schema: unknown): FormSpec {
  const freeform: FormSpec = {
    fields: [
      {
        key: PARAMS_FIELD,
        kind: "json",
        required: false,
        description: "The params as JSON",
        defaultValue: undefined,
        choices: [],
        minimum: undefined,
        maximum: undefined,
      },
    ],
    freeform: true,
  };
  if (!isSchema(schema) || schema.type !== "object" || !isSchema(schema.properties)) return freeform;
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const fields = Object.entries(schema.properties).map(([key, value]): FieldSpec => {
    const property = isSchema(value) ? value : {};
    const { kind, choices } = kindOf(property);
    return {
      key,
      kind,
      required: required.has(key) && property.default === undefined,
      description: typeof property.description === "string" ? property.description : undefined,
      defaultValue: property.default,
      choices,
      minimum: numberOr(property.minimum),
      maximum: numberOr(property.maximum),
    };
  });
  return { fields, freeform: false };
}

export type FormValues = Record<string, string | boolean>;

/** Empty fields, but booleans at their default; other defaults show as placeholders. */
export function initialValues(spec: FormSpec): FormValues {
  return Object.fromEntries(
    spec.fields.map((field) => [field.key, field.kind === "boolean" ? field.defaultValue === true : ""]),
  );
}

function parseField(field: FieldSpec, raw: string): { value?: unknown; error?: string } {
  switch (field.kind) {
    case "integer":
    case "number": {
      const value = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(value)) return { error: "must be a number" };
      if (field.kind === "integer" && !Number.isInteger(value)) return { error: "must be a whole number" };
      return { value };
    }
    case "json":
      try {
        return { value: JSON.parse(raw) };
      } catch {
        return { error: "is not valid JSON" };
      }
    default:
      return { value: raw };
  }
}

/**
 * The params the form describes, or the fields that cannot be read (not a number, not JSON).
 * An empty field is left out, so the server applies the schema's default.
 */
export function collectParams(
  spec: FormSpec,
  values: FormValues,
): { params: unknown; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const params: Record<string, unknown> = {};
  for (const field of spec.fields) {
    const raw = values[field.key];
    if (typeof raw === "boolean") {
      params[field.key] = raw;
      continue;
    }
    // Left out even when required: the server's schema check names what is missing.
    if (raw === undefined || raw === "") continue;
    const parsed = parseField(field, raw);
    if (parsed.error) errors[field.key] = parsed.error;
    else params[field.key] = parsed.value;
  }
  if (spec.freeform) return { params: params[PARAMS_FIELD], errors };
  return { params, errors };
}

export interface Issue {
  path: string;
  message: string;
}

/** The issues of a 422 answer, whichever of the two validation errors it is. */
export function issuesOf(details: unknown): Issue[] {
  const issues = isSchema(details) ? details.issues : undefined;
  if (!Array.isArray(issues)) return [];
  return issues.filter(
    (issue): issue is Issue =>
      isSchema(issue) && typeof issue.path === "string" && typeof issue.message === "string",
  );
}

/**
 * Which field an issue is about. invalid_params paths are JSON pointers into the params
 * ("/steps", "/items/0"); body validation paths name the body's fields ("priority", "tags[0]").
 * Issues about the params as a whole, or a field the form does not show, go under "".
 */
export function issueField(issue: Issue, code: string, spec: FormSpec): string {
  if (code === "invalid_params") {
    if (spec.freeform) return PARAMS_FIELD;
    const first = issue.path.split("/").filter((part) => part !== "")[0];
    const key = first?.replaceAll("~1", "/").replaceAll("~0", "~");
    return key !== undefined && spec.fields.some((field) => field.key === key) ? key : "";
  }
  const head = issue.path.split(/[.[]/)[0] ?? "";
  return BODY_FIELDS.includes(head) ? `@${head}` : "";
}

/** The body's fields the form shows beside the params, each under "@" and its name. */
const BODY_FIELDS = ["priority", "tags", "runAt", "idempotencyKey"];

/** The first message for each field; a field's errors read best one at a time. */
export function errorsByField(issues: Issue[], code: string, spec: FormSpec): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of issues) {
    const field = issueField(issue, code, spec);
    errors[field] ??= issue.message;
  }
  return errors;
}
