/** What was thrown, as an Error: itself when it is one, else an Error with its text. */
export const asError = (error: unknown): Error =>
  error instanceof Error ? error : new Error(String(error));
