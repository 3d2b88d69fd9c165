// The only task the fuzzed server knows: it ends at once, so an accepted request's writes are
// over quickly and the database is quiet again before the next request is judged.
export { EchoTask } from "../fixtures/tasks.ts";
