export { createKilnApp, type KilnHttpOptions, kilnRoutes } from "./app.ts";
export type { ErrorBody } from "./errors.ts";
export type { MetricSource } from "./metrics.ts";
export type { EventJson, LogJson, TaskJson, TaskTypeJson } from "./presenters.ts";
export type { NodeJson, NodeListJson } from "./routes/nodes.ts";
export * as schemas from "./schemas.ts";
