import { toOpenAPISchema } from "@elysiajs/openapi";
import { Elysia } from "elysia";
import pkg from "../../../package.json" with { type: "json" };
import type { RegisteredTask, TaskManager } from "../../engine/index.ts";
import { CreateTaskBody } from "../schemas.ts";
import { correctedSchemas } from "./openapi-schema.ts";

type JsonObject = Record<string, unknown>;
type Operation = { requestBody?: { content?: Record<string, unknown>; required?: boolean } };

const OPENAPI_VERSION = "3.1.0";
const METHODS = ["get", "post", "put", "patch", "delete"] as const;

/** `/tasks/:id` → `/tasks/{id}`, the form the generated paths use. */
const openApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");

/** POST /tasks documented once per task name, so each name shows its own params schema. */
function createTaskBodies(tasks: readonly RegisteredTask[]): JsonObject {
  // The body's own example names one task; a variant's example comes from its params schema.
  const {
    properties,
    examples: _oneTaskExample,
    ...rest
  } = CreateTaskBody as unknown as { properties: JsonObject } & JsonObject;
  const variants = tasks.map((task) => ({
    ...rest,
    title: task.name,
    description: task.cls.description ?? `Create a "${task.name}" task`,
    properties: {
      ...properties,
      name: { type: "string", const: task.name },
      params: task.paramsSchema ?? { description: `"${task.name}" takes no params`, examples: [{}] },
    },
  }));
  return variants.length === 0 ? (CreateTaskBody as unknown as JsonObject) : { oneOf: variants };
}

interface RouteEntry {
  method: string;
  path: string;
  hooks?: { body?: unknown };
}

/**
 * Every route of the app tree this instance is mounted in. Elysia keeps that table behind a
 * protected method, which is also what the OpenAPI generator reads.
 */
const globalRoutes = (app: Elysia): RouteEntry[] =>
  (app as unknown as { getGlobalRoutes(): RouteEntry[] }).getGlobalRoutes();

function withJsonBodies(
  routes: RouteEntry[],
  paths: Record<string, Record<string, Operation> | undefined>,
): void {
  // kiln parses every body itself (size cap, strict JSON), which hides the content type from
  // the generator: put the route's own body schema back as application/json.
  for (const route of routes) {
    const body = route.hooks?.body;
    const method = route.method.toLowerCase() as (typeof METHODS)[number];
    const operation = paths[openApiPath(route.path)]?.[method];
    if (!operation?.requestBody || typeof body !== "object" || body === null) continue;
    if (Object.keys(operation.requestBody.content ?? {}).length > 0) continue;
    operation.requestBody.content = { "application/json": { schema: body } };
  }
}

const BEARER_SCHEME = {
  type: "http",
  scheme: "bearer",
  description:
    "The admin token may do everything; a read-only token may use GET and HEAD only, and gets 403 forbidden " +
    "for every other method (create, pause, resume, stop, restart, delete). A missing or unknown token is 401.",
};

const INFO = {
  title: "kiln",
  version: pkg.version,
  description:
    "Background tasks as TypeScript classes on Bun Workers: create them, follow their progress and history, " +
    "and pause, resume, stop or restart them mid-run. POST /tasks lists each task name's params schema.",
};

/**
 * GET /swagger/json: the OpenAPI document generated from the routes' TypeBox schemas, with
 * each registered task name's params schema. Rebuilt when routes or task names are added.
 */
export function openApiRoutes(manager: TaskManager, secured: boolean) {
  const app = new Elysia();
  let cached: { key: string; document: JsonObject } | undefined;
  const build = (): JsonObject => {
    const tasks = manager.taskTypes();
    const routes = globalRoutes(app);
    const key = `${routes.length}/${tasks.map((task) => task.name).join(",")}`;
    if (cached?.key === key) return cached.document;
    const { paths, components } = toOpenAPISchema(app, undefined, undefined, undefined, OPENAPI_VERSION);
    const byPath = paths as Record<string, Record<string, Operation> | undefined>;
    withJsonBodies(routes, byPath);
    const createTask = byPath["/tasks"]?.post;
    if (createTask?.requestBody) {
      createTask.requestBody.content = { "application/json": { schema: createTaskBodies(tasks) } };
    }
    const document: JsonObject = {
      openapi: OPENAPI_VERSION,
      info: INFO,
      paths: correctedSchemas(paths),
      components: {
        schemas: correctedSchemas(components.schemas),
        ...(secured ? { securitySchemes: { bearer: BEARER_SCHEME } } : {}),
      },
      ...(secured ? { security: [{ bearer: [] }] } : {}),
    };
    cached = { key, document };
    return document;
  };
  return app.get("/swagger/json", () => build(), { detail: { hide: true } });
}
