/** A token was missing, malformed, expired or not signed as required. `reason` is safe to show. */
export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';

  constructor(readonly reason: string) {
    super(reason);
  }
}
