// The cluster tests' `steps` task (a checkpoint after every step, each step recorded in
// PostgreSQL), for the failover and pause figures of bench/nodes.ts.
export { Steps } from "../../tests/cluster/tasks/steps.ts";
