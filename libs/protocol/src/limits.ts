/** Limits of the job contract and of client frames: the same for every producer and every server. */
export const ContractLimits = {
  /** User ids: 1–128 UTF-16 code units (as `String.length` counts), also a token's `sub`. */
  userIdMaxLength: 128,
  /** Recipients of one notification (`userIds`). */
  maxUserIds: 1000,
  /** Notification types: 1–64 characters of `typePattern`. */
  typeMaxLength: 64,
  typePattern: /^[a-z0-9._-]+$/,
  /** A payload's JSON, in UTF-8 bytes. */
  payloadMaxBytes: 16 * 1024,
  /** How deeply objects and arrays nest in a payload (the payload itself is level 1). */
  payloadMaxDepth: 32,
  dedupeKeyMaxLength: 128,
  /** Protocol 1.1: categories, 1–64 characters of `categoryPattern`. */
  categoryMaxLength: 64,
  categoryPattern: /^[a-z0-9._-]+$/,
  /** Protocol 1.1: collapse keys, 1–128 characters. */
  collapseKeyMaxLength: 128,
  /** Items of one `notify-batch` job. */
  maxBatchItems: 1000,
  /** Recipients of one `notify-batch` job, all items together. */
  maxBatchRecipients: 10_000,
  /** Ids in one `read` or `mark` frame or HTTP body. */
  maxReadIds: 1000,
  /** Length of one id in a `read` frame. */
  notificationIdMaxLength: 64,
  /** Delivery policy: `fallbackAfterSeconds`, an integer 0–30 days. */
  fallbackAfterMaxSeconds: 30 * 24 * 3600,
} as const;

/** Per-socket and per-user limits of a gateway. */
export interface NotificationLimits {
  /** Largest inbound frame, in bytes; a larger one closes the socket with 1009. @default 65536 */
  maxFrameBytes: number;
  /** Open sockets per user on one instance; one more is closed with 4429. @default 10 */
  maxSocketsPerUser: number;
  /** Client frames per socket per minute; one more gets `error` and 4429. @default 100 */
  maxMessagesPerMinute: number;
  /** Milliseconds between server pings. @default 25000 */
  pingIntervalMs: number;
  /** Milliseconds a socket may stay silent after a ping before it is dropped. @default 10000 */
  pingTimeoutMs: number;
  /** Unsent bytes a socket may queue before it is closed with 4008. @default 1048576 */
  maxBufferedBytes: number;
  /**
   * Milliseconds a socket may stay open past its token's `exp` before it is closed with 4401
   * (the client reconnects with a fresh token). @default 5000
   */
  tokenExpiryGraceMs: number;
}

/** The gateway limits a server applies unless configured otherwise. */
export const DEFAULT_LIMITS: Readonly<NotificationLimits> = Object.freeze({
  maxFrameBytes: 64 * 1024,
  maxSocketsPerUser: 10,
  maxMessagesPerMinute: 100,
  pingIntervalMs: 25_000,
  pingTimeoutMs: 10_000,
  maxBufferedBytes: 1024 * 1024,
  tokenExpiryGraceMs: 5000,
});
