// Every example in the OpenAPI document is a value of its own schema, so what Swagger UI
// shows as "Example Value" can be sent, or expected, as it is.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Value } from "@sinclair/typebox/value";
import { fromJsonSchema } from "./json-schema-typebox.ts";
import { startServer, type TestServer } from "./server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

type Node = Record<string, unknown>;
const isNode = (value: unknown): value is Node =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Every object in the document with its JSON path, depth first (examples' own values skipped). */
function* nodes(value: unknown, path = "$"): Generator<[string, Node]> {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* nodes(item, `${path}[${i}]`);
    return;
  }
  if (!isNode(value)) return;
  yield [path, value];
  for (const [key, child] of Object.entries(value)) {
    if (key !== "examples" && key !== "example") yield* nodes(child, `${path}.${key}`);
  }
}

async function document(): Promise<Node> {
  return (await (await server.call("/swagger/json")).json()) as Node;
}

test("every example validates against the schema it illustrates (TypeBox Value.Check)", async () => {
  const checked: string[] = [];
  const wrong: string[] = [];
  for (const [path, node] of nodes(await document())) {
    const examples = node.examples ?? (node.example === undefined ? undefined : [node.example]);
    if (examples === undefined) continue;
    // Only schemas hold examples in kiln's document: an Example Object map would fail here.
    expect(Array.isArray(examples)).toBe(true);
    const schema = fromJsonSchema(node, path);
    for (const [i, example] of (examples as unknown[]).entries()) {
      checked.push(`${path}.examples[${i}]`);
      if (Value.Check(schema, example)) continue;
      const errors = [...Value.Errors(schema, example)].slice(0, 3);
      wrong.push(`${path}.examples[${i}]: ${errors.map((e) => `${e.path} ${e.message}`).join("; ")}`);
    }
  }
  expect(wrong).toEqual([]);
  // The task, its params, result and error, and the create body are among them, on every route.
  const task = "$.paths./tasks/{id}.get.responses.200.content.application/json.schema";
  expect(checked).toEqual(
    expect.arrayContaining([
      `${task}.examples[0]`,
      `${task}.properties.params.examples[0]`,
      `${task}.properties.result.examples[0]`,
      `${task}.properties.error.examples[0]`,
      "$.paths./tasks.get.responses.200.content.application/json.schema.properties.items.items.examples[0]",
    ]),
  );
  expect(checked.length).toBeGreaterThan(40);
});

test("params, result and error are shown as objects; integers are numbers, never strings", async () => {
  const doc = await document();
  const task = (doc.paths as Record<string, Record<string, Node>>)["/tasks/{id}"]?.get?.responses as Node;
  const schema = ((task["200"] as Node).content as Record<string, Node>)["application/json"]?.schema as Node;
  const [example] = schema.examples as Node[];
  expect(typeof example?.attempt).toBe("number");
  const fields = schema.properties as Record<string, Node>;
  for (const field of ["params", "result", "error"]) {
    const [value] = (fields[field]?.examples ?? []) as unknown[];
    expect(isNode(value)).toBe(true);
  }
  // Elysia's t.Integer() also takes a numeric string (for query values); the document says integer.
  const textIntegers = [...nodes(doc)]
    .filter(([, node]) => node.type === "string" && (node.format === "integer" || node.format === "numeric"))
    .map(([path]) => path);
  expect(textIntegers).toEqual([]);
  const limit = (doc.paths as Record<string, Record<string, Node>>)["/tasks"]?.get?.parameters as Node[];
  expect(limit.find((parameter) => parameter.name === "limit")?.schema).toMatchObject({
    type: "integer",
    minimum: 1,
    maximum: 500,
    default: 50,
  });
});
