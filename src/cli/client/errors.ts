import { ConfigError } from "../config.ts";

/**
 * A mistake in how kiln was called (exit 2). It extends ConfigError so the dispatcher treats
 * client usage errors and `serve` configuration errors alike.
 */
export class UsageError extends ConfigError {
  constructor(
    message: string,
    /** Shown under the message so the fix is one glance away. */
    readonly hint: string,
  ) {
    super(message);
  }
}

/** A failure the user can act on, reported as one line without a stack (exit 1). */
export class CliError extends Error {}

/** The server answered with an error: its `{ error: { code, message } }`, or a stand-in. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** No answer at all: nothing listening, DNS, TLS, a dropped connection. */
export class ConnectionError extends CliError {}
