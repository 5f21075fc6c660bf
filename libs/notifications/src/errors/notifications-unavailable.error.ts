/**
 * Redis is unreachable: the notification was not accepted. When `mayBeStored` is true the enqueue timed
 * out and may still land; retry with the same `dedupeKey` (or, over HTTP, `Idempotency-Key`) to be safe.
 */
export class NotificationsUnavailableError extends Error {
  override readonly name = 'NotificationsUnavailableError';

  constructor(readonly mayBeStored = false) {
    super(
      mayBeStored
        ? 'notifications unavailable: enqueue timed out (retry with the same dedupeKey or Idempotency-Key)'
        : 'notifications unavailable: Redis is unreachable',
    );
  }
}
