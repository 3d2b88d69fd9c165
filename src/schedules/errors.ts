import { KilnError } from "../engine/errors.ts";
import type { ScheduleFieldError } from "./spec.ts";

export class ScheduleNotFoundError extends KilnError {
  constructor(id: string) {
    super("schedule_not_found", 404, `no schedule with id ${id}`);
  }
}

export class ScheduleExistsError extends KilnError {
  constructor(id: string) {
    super("schedule_exists", 409, `a schedule with id ${id} already exists`);
  }
}

/** A schedule's fields break its rules: each broken one as `{ field, message }`, all at once. */
export class InvalidScheduleError extends KilnError {
  constructor(readonly errors: ScheduleFieldError[]) {
    super("invalid_schedule", 422, errors.map((error) => `${error.field}: ${error.message}`).join("; "), {
      errors,
    });
  }
}
