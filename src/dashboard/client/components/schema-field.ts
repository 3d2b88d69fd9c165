import { html } from "htm/preact";
import type { FieldSpec } from "../schema-form.ts";

export interface SchemaFieldProps {
  field: FieldSpec;
  value: string | boolean;
  error: string | undefined;
  onValue: (value: string | boolean) => void;
}

function placeholderOf(field: FieldSpec): string {
  if (field.defaultValue !== undefined) return `default: ${JSON.stringify(field.defaultValue)}`;
  if (field.kind === "json") return 'JSON, e.g. [1, 2] or {"a": 1}';
  return field.required ? "" : "optional";
}

function limitsOf(field: FieldSpec): string | undefined {
  const { minimum, maximum } = field;
  if (minimum !== undefined && maximum !== undefined) return `${minimum} to ${maximum}`;
  if (minimum !== undefined) return `at least ${minimum}`;
  if (maximum !== undefined) return `at most ${maximum}`;
  return undefined;
}

/** One params field: an input that fits its schema, its description and its validation error. */
export function SchemaField({ field, value, error, onValue }: SchemaFieldProps) {
  const id = `param-${field.key.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const hint = [field.description, limitsOf(field)].filter(Boolean).join(" · ");
  const described = [hint && hintId, error && errorId].filter(Boolean).join(" ") || undefined;
  const text = (event: Event) => onValue((event.currentTarget as HTMLInputElement).value);
  const common = {
    id,
    name: field.key,
    "aria-invalid": error ? "true" : undefined,
    "aria-describedby": described,
  };

  const notes = html`${hint && html`<p class="hint" id=${hintId}>${hint}</p>`}
  ${error && html`<p class="field-error" id=${errorId} role="alert">${error}</p>`}`;

  if (field.kind === "boolean") {
    // The box sits before its name on one line, not stretched across the column like a text input.
    return html`<div class=${`form-field form-check${error ? " has-error" : ""}`}>
      <label class="check" for=${id}>
        <input
          ...${common}
          type="checkbox"
          checked=${value === true}
          onChange=${(event: Event) => onValue((event.currentTarget as HTMLInputElement).checked)}
        />
        <span>${field.key}</span>
      </label>
      ${notes}
    </div>`;
  }

  let input: unknown;
  switch (field.kind) {
    case "choice":
      input = html`<select ...${common} value=${value} onChange=${text}>
        <option value="">${field.required ? "choose…" : "(default)"}</option>
        ${field.choices.map((choice) => html`<option value=${choice}>${choice}</option>`)}
      </select>`;
      break;
    case "json":
      input = html`<textarea ...${common} rows="3" placeholder=${placeholderOf(field)} value=${value} onInput=${text} />`;
      break;
    default:
      input = html`<input
        ...${common}
        type=${field.kind === "string" ? "text" : "number"}
        step=${field.kind === "integer" ? "1" : field.kind === "number" ? "any" : undefined}
        min=${field.minimum}
        max=${field.maximum}
        placeholder=${placeholderOf(field)}
        value=${value}
        onInput=${text}
      />`;
  }

  return html`<div class=${`form-field${error ? " has-error" : ""}`}>
    <label for=${id}>
      ${field.key}${field.required && html`<span class="required" title="required"> *</span>`}
    </label>
    ${input}
    ${notes}
  </div>`;
}
