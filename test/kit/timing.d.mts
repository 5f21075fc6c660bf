export function sleep(ms: number): Promise<void>;

/** `promise`, or a rejection with "<what> not within <ms> ms" once `timeoutMs` passes. */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what?: string): Promise<T>;

/**
 * Retries `check` until it returns a value that is not undefined/false, or fails after `timeoutMs`.
 * For state that has no event to wait on (an HTTP endpoint's answer, say).
 */
export function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs?: number,
  what?: string,
): Promise<T>;
