/** The close codes that a refused upgrade's HTTP status stands for (wire protocol v1). */
const CLOSE_CODE_OF_STATUS: Record<number, number> = { 401: 4401, 403: 4403 };

/**
 * The HTTP status with which the server refused the upgrade, read from the socket's `error` event.
 * The gateway answers a bad token with 401 and a foreign origin with 403 instead of a `101`. Node's
 * `ws` reports it (`Unexpected server response: 401`); a browser reports no status at all, so there
 * a refusal looks like a network failure (close 1006).
 */
export function upgradeRefusalOf(event: unknown): number | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const { message, error } = event as { message?: unknown; error?: { message?: unknown } };
  const text = typeof message === 'string' ? message : error?.message;
  if (typeof text !== 'string') return undefined;
  const match = /^Unexpected server response: (\d{3})$/.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** The close that a refused upgrade stands for: 401 is 4401, 403 is 4403; anything else as it came. */
export function closeOfRefusal(
  status: number | undefined,
  close: { code: number; reason: string },
): { code: number; reason: string } {
  const code = status === undefined ? undefined : CLOSE_CODE_OF_STATUS[status];
  return code === undefined ? close : { code, reason: `upgrade refused (HTTP ${status})` };
}
