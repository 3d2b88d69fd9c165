/** The depth limit and the check live with the rules for stored values, which share them. */
export { MAX_JSON_DEPTH, nestsDeeperThan } from "../task/json-value.ts";
