// Example values for the OpenAPI document: what Swagger UI shows as "Example Value". Each is
// checked against the schema it illustrates (tests/http/openapi-examples.test.ts).

export const TASK_ID_EXAMPLE = "0197a3c2-5e1f-7b2a-9c4d-3e8f1a2b6c7d";

export const PARAMS_EXAMPLE = { from: 30 };

export const RESULT_EXAMPLE = { reached: 0 };

/** A failed task's `error`, as kiln stores what its run threw. */
export const TASK_ERROR_EXAMPLE = {
  name: "Error",
  message: "the upload was refused: 403 Forbidden",
  stack:
    "Error: the upload was refused: 403 Forbidden\n    at run (file:///srv/tasks/upload.ts:21:13)\n    at async runTask (kiln:worker:88:18)",
  retryable: true,
};

export const TASK_EXAMPLE = {
  id: TASK_ID_EXAMPLE,
  name: "countdown",
  status: "FINISHED",
  statusReason: null,
  params: PARAMS_EXAMPLE,
  result: RESULT_EXAMPLE,
  error: null,
  progress: { done: 30, total: 30, percent: 100, message: "lift-off" },
  attempt: 1,
  priority: 0,
  tags: ["demo"],
  requestedAction: null,
  createdAt: "2026-01-05T09:30:00.000Z",
  startTime: "2026-01-05T09:30:00.120Z",
  endTime: "2026-01-05T09:30:30.480Z",
  lastRunTime: "2026-01-05T09:30:00.120Z",
  runAt: null,
  durationMs: 30_360,
  activeMs: 30_360,
  parentId: null,
  schedule: null,
  node: null,
  awaiting: null,
  onDependencyFailure: null,
  context: { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", requestId: "req-42" },
};

export const ERROR_DETAILS_EXAMPLE = {
  in: "body",
  issues: [{ path: "priority", message: "priority must be a 32-bit integer" }],
};

export const CREATE_TASK_EXAMPLE = {
  name: "countdown",
  params: PARAMS_EXAMPLE,
  priority: 0,
  runAt: "2026-01-05T09:30:00.000Z",
  idempotencyKey: "nightly-2026-01-05",
  tags: ["demo"],
};

export const PARAMS_SCHEMA_EXAMPLE = {
  type: "object",
  properties: { from: { type: "integer", minimum: 1, default: 30 } },
  required: ["from"],
};

export const NODE_LIST_EXAMPLE = {
  items: [
    {
      id: "node-1/3f9a0c1e",
      name: "node-1",
      host: "kiln-a",
      pid: 4242,
      startedAt: "2026-01-05T09:00:00.000Z",
      lastHeartbeatAt: "2026-01-05T09:30:00.000Z",
      heartbeatAgeMs: 1_800,
      status: "alive",
      concurrency: 4,
      running: 2,
      leader: true,
    },
    {
      id: "node-2/b71d22a4",
      name: "node-2",
      host: "kiln-b",
      pid: 4310,
      startedAt: "2026-01-05T09:00:02.000Z",
      lastHeartbeatAt: "2026-01-05T09:29:58.500Z",
      heartbeatAgeMs: 3_300,
      status: "alive",
      concurrency: 4,
      running: 4,
      leader: false,
    },
  ],
};
