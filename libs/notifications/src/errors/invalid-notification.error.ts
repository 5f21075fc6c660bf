import type { FieldError } from '../utils/validation.util.js';
import { describeFieldErrors } from '../utils/validation.util.js';

/** A notification broke the job contract; nothing was enqueued. */
export class InvalidNotificationError extends Error {
  override readonly name = 'InvalidNotificationError';
  /** The offending fields, e.g. `['type', 'payload']`. */
  readonly fields: string[];

  constructor(readonly errors: FieldError[]) {
    super(`invalid notification: ${describeFieldErrors(errors)}`);
    this.fields = [...new Set(errors.map((error) => error.field))];
  }
}
