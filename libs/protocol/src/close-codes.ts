/**
 * WebSocket close codes the server uses. The close reason says why in plain words.
 */
export const CloseCode = {
  /** The client closed on purpose. */
  Normal: 1000,
  /** The server is going away (shutdown): reconnect, elsewhere if need be. */
  GoingAway: 1001,
  /** A frame over the server's `maxFrameBytes`. */
  FrameTooLarge: 1009,
  /** An internal error, or the user's history was reset: reconnect and resume. */
  InternalError: 1011,
  /** Slow consumer: more than `maxBufferedBytes` unsent; reconnect and resume. */
  SlowConsumer: 4008,
  /** Missing, invalid or expired token: reconnect with a fresh token, or stop. */
  Unauthorized: 4401,
  /** The page's `Origin` is not allowed: reconnecting will not help. */
  OriginNotAllowed: 4403,
  /** Too many sockets of one user, or too many frames. */
  TooMany: 4429,
} as const;

/** One of the close codes above. */
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];
