import type { FromWorker, ToWorker } from "../../worker/protocol.ts";
import { KilnError, NotAcceptingError, StorageUnavailableError } from "../errors.ts";
import type { Logger } from "../logger.ts";

export type SpawnCall = Extract<FromWorker, { type: "spawn" }>;
export type SpawnAnswer = Extract<ToWorker, { type: "spawned" | "spawn-refused" }>;

/**
 * What a task hears back for its `this.spawn` call: the children's ids once `spawn` has committed
 * them, or why none was made, with the code the REST API would answer (`unknown_task_name`,
 * `invalid_params`, …). Never rejects.
 */
export async function answerSpawn(
  call: SpawnCall,
  spawn: () => Promise<string[]>,
  logger: Logger,
): Promise<SpawnAnswer> {
  const { taskId, callId, name } = call;
  try {
    return { type: "spawned", taskId, callId, ids: await spawn() };
  } catch (error) {
    const known = error instanceof KilnError;
    if (!known) logger.error(`the spawn of task ${taskId} failed`, { error: String(error) });
    return {
      type: "spawn-refused",
      taskId,
      callId,
      code: known ? error.code : "internal",
      message: `spawn of "${name}" refused: ${known ? error.message : String(error)}`,
      // Only a refusal that a later attempt could see lifted is worth a retry of the task.
      retryable: error instanceof StorageUnavailableError || error instanceof NotAcceptingError,
    };
  }
}
