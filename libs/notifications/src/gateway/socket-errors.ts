/** The close code ws sends with each error it closes a socket on, by the error's public `code`. */
const CLOSE_CODE_BY_WS_ERROR: Readonly<Record<string, number>> = {
  WS_ERR_INVALID_UTF8: 1007,
  WS_ERR_TOO_MANY_BUFFERED_PARTS: 1008,
  WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH: 1009,
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: 1009,
};

/**
 * The close code of a socket error ws raised for a client's protocol error (1009 frame too large,
 * 1007 invalid UTF-8, 1008 too many fragments; 1002 for the other `WS_ERR_*` codes: a bad opcode,
 * mask, RSV bit…), read from the error's documented `code`; undefined for any other error (a reset
 * connection…), which closes nothing on the server's side.
 */
export function closeCodeOfSocketError(error: Error & { code?: unknown }): number | undefined {
  if (typeof error.code !== 'string' || !error.code.startsWith('WS_ERR_')) return undefined;
  return CLOSE_CODE_BY_WS_ERROR[error.code] ?? 1002;
}
