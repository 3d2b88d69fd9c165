// Settings shared by the plainjob peer and its worker processes.

/**
 * plainjob's workers sleep this long whenever they find the queue empty (its default is 1,000 ms,
 * which would idle them between two enqueue chunks and measure the sleep, not the queue).
 */
export const PLAINJOB_POLL_MS = 10;
export const PLAINJOB_QUIET = { error() {}, warn() {}, info() {}, debug() {} };
