import { positionals } from "./args.ts";
import { type Command, parseClientArgs } from "./command.ts";
import { ApiError } from "./errors.ts";

/** A container's health check must not hang on a server that accepts but never answers. */
const TIMEOUT_MS = 5_000;

export const healthCommand: Command = {
  name: "health",
  synopsis: "[--ready]",
  summary: "Probe a server (exit 0 when it answers): /health, or /ready with --ready.",
  async run(args, env) {
    const flags = { ready: { type: "boolean" } } as const;
    const help = "  --ready       also require the engine to have started (GET /ready)";
    const parsed = parseClientArgs(this, args, env, flags, help);
    if (!parsed) return 0;
    positionals(parsed.positionals, [], parsed.usage);
    const probe = parsed.values.ready ? "/ready" : "/health";
    try {
      const { body } = await parsed.client.request<{ status: string }>("GET", probe, {
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      console.log(body.status);
      return 0;
    } catch (error) {
      // /ready answers 503 {"status":"not_ready"} while starting or stopping: not kiln's error shape.
      if (error instanceof ApiError && error.status === 503 && probe === "/ready") {
        throw new ApiError(503, "not_ready", `the server at ${parsed.client.base} is not ready`);
      }
      throw error;
    }
  },
};
