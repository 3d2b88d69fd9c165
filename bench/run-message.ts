// What the benches that time the worker port send: a `run` message shaped as the engine's.

/** A `run` message as the engine builds it for a no-op task with no params. */
export const RUN_MESSAGE = {
  type: "run",
  taskId: "0192f0a4-7f7e-7b6a-9c1d-3e2f1a0b9c8d",
  name: "bench-noop",
  module: "file:///srv/app/tasks.ts",
  params: null,
  attempt: 1,
  checkpointIntervalMs: 1000,
  context: { taskId: "0192f0a4-7f7e-7b6a-9c1d-3e2f1a0b9c8d" },
  limits: { maxResultBytes: 1_048_576, maxCheckpointBytes: 1_048_576, maxLogLineBytes: 16_384 },
};
