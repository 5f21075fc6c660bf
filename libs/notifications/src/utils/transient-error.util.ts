/** Network error codes of a connection that dropped or could not be made. */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * Redis error replies that mean "not now": loading its data after a restart, a script or a
 * failover under way, a cluster slot moving (`TRYAGAIN`, `ASK`) or moved (`MOVED`: ioredis follows
 * it for a command alone and for a pipeline whose every command got it, but hands it back for each
 * command of a pipeline that also wrote elsewhere; the node did not run such a command).
 */
const TRANSIENT_REPLY =
  /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY|NOREPLICAS)\b|^(MOVED|ASK) \d+ /;

/**
 * Whether `error` says Redis was briefly unreachable, rather than that the command itself is wrong:
 * a closed or refused connection, ioredis giving up on a command after `maxRetriesPerRequest`
 * reconnection attempts or after `commandTimeout`, or a "not now" reply.
 */
export function isTransientRedisError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { code } = error as NodeJS.ErrnoException;
  if (code !== undefined && TRANSIENT_CODES.has(code)) return true;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  const message = error.message;
  return (
    message === 'Connection is closed.' ||
    message === 'Command timed out' ||
    message.includes('ECONNREFUSED') ||
    message.includes('ECONNRESET') ||
    TRANSIENT_REPLY.test(message)
  );
}
