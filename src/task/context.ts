/**
 * Where a task comes from, for tracing: the W3C `traceparent` and the `x-request-id` of the HTTP
 * request that created it. A task spawned by another keeps its parent's trace id (with a span id
 * of its own) and its request id. Either field is absent when the request carried none, or one
 * that was not valid.
 */
export interface TaskContext {
  readonly traceparent?: string;
  readonly requestId?: string;
}
