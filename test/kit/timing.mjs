export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** `promise`, or a rejection with "<what> not within <ms> ms" once `timeoutMs` passes. */
export async function withTimeout(promise, timeoutMs, what = 'promise') {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} not within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Retries `check` until it returns a value that is not undefined/false, or fails after `timeoutMs`.
 * For state that has no event to wait on (an HTTP endpoint's answer, say).
 */
export async function eventually(check, timeoutMs = 10_000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const cause = last ? `: ${last.message ?? JSON.stringify(last)}` : '';
      throw new Error(`${what} not reached within ${timeoutMs} ms${cause}`);
    }
    await sleep(50);
  }
}
