/** Where the engine reports what operators should know (a crashed worker, an unknown task name). */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** The default for library use: warnings and errors to stderr, nothing else. */
export const stderrLogger: Logger = {
  debug() {},
  info() {},
  warn(message, fields) {
    console.error(`kiln warn: ${message}`, fields ?? "");
  },
  error(message, fields) {
    console.error(`kiln error: ${message}`, fields ?? "");
  },
};

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
