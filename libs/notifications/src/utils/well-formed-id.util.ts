/**
 * A lone UTF-16 surrogate, or U+FFFD. Redis keys, channels and frames are UTF-8: encoding replaces
 * each lone surrogate with U+FFFD, so `"\ud800"`, `"\udfff"` and `"\ufffd"` would all name the same
 * keys and channel while the gateway told them apart. U+FFFD is refused too: it is also what
 * invalid UTF-8 (in a token's payload, say) decodes to.
 */
const ILL_FORMED = /[\uD800-\uDFFF\uFFFD]/u;

/** Whether an id (a user id, a dedupe key, a notification id) is safe to use as a Redis key part. */
export function isWellFormedId(value: string): boolean {
  return !ILL_FORMED.test(value);
}

export const WELL_FORMED_ID_RULE = 'well-formed Unicode (no lone surrogates, no U+FFFD)';
