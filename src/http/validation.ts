import { Kind, type TSchema } from "@sinclair/typebox";
import { type ValueError, ValueErrorType } from "@sinclair/typebox/errors";
import type { ValidationError } from "elysia";

export interface ValidationIssue {
  path: string;
  message: string;
}

export interface ValidationDescription {
  message: string;
  details: { in: string; issues: ValidationIssue[] };
}

const MAX_ISSUES = 20;

/** `/tags/0` → `tags[0]`; `/a/b` → `a.b`. */
export function fieldName(pointer: string): string {
  return pointer
    .split("/")
    .filter((part) => part !== "")
    .map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"))
    .reduce((name, part) => (/^\d+$/.test(part) ? `${name}[${part}]` : name ? `${name}.${part}` : part), "");
}

/** A short English description of what a schema accepts ("an integer", "one of: A, B"). */
export function describeSchema(schema: TSchema): string {
  const kind = schema[Kind];
  if (kind === "Union") {
    const members = (schema.anyOf ?? []) as TSchema[];
    if (members.every((member) => member.const !== undefined)) {
      return `one of: ${members.map((member) => String(member.const)).join(", ")}`;
    }
    return [...new Set(members.map(describeSchema))].join(" or ");
  }
  if (kind === "Literal") return JSON.stringify(schema.const);
  if (kind === "String") return schema.format ? `a string in ${schema.format} format` : "a string";
  if (kind === "Integer") return "an integer";
  if (kind === "Number") return "a number";
  if (kind === "Boolean") return "a boolean";
  if (kind === "Array") return "an array";
  if (kind === "Object") return "an object";
  if (kind === "Null") return "null";
  return "a valid value";
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** One TypeBox error as "<field> <what is wrong>", naming the field. */
export function describeIssue(issue: ValueError): string {
  const field = fieldName(issue.path);
  const subject = field ? `"${field}"` : "the value";
  if (issue.value === undefined && field !== "") return `${subject} is required`;
  switch (issue.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return `${subject} is required`;
    case ValueErrorType.ObjectAdditionalProperties:
      return `${subject} is not an allowed field`;
    case ValueErrorType.Union:
      return `${subject} must be ${describeSchema(issue.schema)}`;
    default:
      return `${subject} is invalid: ${lowerFirst(issue.message)}`;
  }
}

function customMessage(error: ValidationError): string | undefined {
  const custom = error.customError;
  return typeof custom === "string" && custom !== "" ? custom : undefined;
}

/**
 * Elysia's own validation error is a verbose JSON document; this is one sentence that names
 * the field and why, plus the first issues as details.
 */
export function describeValidation(error: ValidationError): ValidationDescription {
  // "property" is Elysia's label for a value it failed to coerce (a query number, say).
  const where = error.type === "property" ? "query" : error.type;
  let issues: ValueError[] = [];
  try {
    issues = error.all.slice(0, MAX_ISSUES);
  } catch {
    // `all` re-runs the schema; a value it cannot walk leaves only the first error.
    issues = error.valueError ? [error.valueError] : [];
  }
  const first = error.valueError ?? issues[0];
  const custom = customMessage(error);
  const sentence = custom ?? (first ? describeIssue(first) : "does not match its schema");
  return {
    message: `invalid ${where}: ${sentence}`,
    details: {
      in: where,
      issues: issues.map((issue) => ({
        path: fieldName(issue.path),
        // Elysia reports a failed coercion without the field's name; its custom message has it.
        message: issue.path === "" && custom ? custom : describeIssue(issue),
      })),
    },
  };
}
