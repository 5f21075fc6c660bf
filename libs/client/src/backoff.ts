/** How long to wait between reconnect attempts. */
export interface BackoffOptions {
  /**
   * Ceiling of the first wait, in milliseconds; it doubles with every failed attempt.
   * @default 1000
   */
  baseMs: number;
  /**
   * Largest ceiling of any wait, in milliseconds.
   * @default 30000
   */
  capMs: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = { baseMs: 1000, capMs: 30_000 };

/**
 * Exponential backoff with full jitter: a uniformly random wait in
 * `[0, min(capMs, baseMs * 2 ** attempt))`, so clients cut off together do not come back together.
 * `attempt` counts the failed attempts before this one (0 for the first retry).
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const exponent = Number.isFinite(attempt) && attempt > 0 ? Math.floor(attempt) : 0;
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** exponent);
  const draw = Math.min(Math.max(random(), 0), 1);
  return Math.floor(draw * ceiling);
}

/** Throws a TypeError unless `options` are positive and the cap is at least the base. */
export function checkBackoff(options: BackoffOptions): BackoffOptions {
  const { baseMs, capMs } = options;
  if (!(Number.isFinite(baseMs) && baseMs > 0 && Number.isFinite(capMs) && capMs >= baseMs)) {
    throw new TypeError('backoff: baseMs must be > 0 and capMs >= baseMs');
  }
  return { baseMs, capMs };
}
