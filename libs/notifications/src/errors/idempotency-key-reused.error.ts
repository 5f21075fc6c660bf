/**
 * An `Idempotency-Key` (`IdempotencyOptions.key`) came again with a different request: the first
 * request's job stands and nothing was added. Over HTTP this is a 422, as the IETF draft on the header
 * advises.
 */
export class IdempotencyKeyReusedError extends Error {
  override readonly name = 'IdempotencyKeyReusedError';

  constructor(readonly jobId: string) {
    super('this Idempotency-Key was already used with a different request body');
  }
}
