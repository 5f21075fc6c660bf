/** Queue that producers enqueue `notify` jobs on, unless configured otherwise. */
export const DEFAULT_QUEUE_NAME = 'notifications';
/** The job name of the job contract. */
export const NOTIFY_JOB_NAME = 'notify';
/** The batch form: `{items: [<notify job data>, …]}`, stored in one round trip. */
export const NOTIFY_BATCH_JOB_NAME = 'notify-batch';
/** Path of the WebSocket endpoint, on the HTTP port. */
export const WS_PATH = '/ws';
/** Prefix of every Redis key the store writes, unless configured otherwise. */
export const DEFAULT_KEY_PREFIX = 'notif';

export const NOTIFICATIONS_QUEUE_NAME = Symbol('NOTIFICATIONS_QUEUE_NAME');
export const NOTIFICATIONS_REDIS = Symbol('NOTIFICATIONS_REDIS');
export const NOTIFICATIONS_QUEUE = Symbol('NOTIFICATIONS_QUEUE');
/** Optional: a prom-client `Registry` for the library's metrics (default: a registry of its own). */
export const NOTIFICATIONS_METRICS_REGISTRY = Symbol('NOTIFICATIONS_METRICS_REGISTRY');

/** WebSocket close codes of wire protocol v1. */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  FrameTooLarge: 1009,
  InternalError: 1011,
  SlowConsumer: 4008,
  Unauthorized: 4401,
  OriginNotAllowed: 4403,
  TooMany: 4429,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Contract limits, shared by the job DTO, the service and the HTTP API. */
export const ContractLimits = {
  userIdMaxLength: 128,
  maxUserIds: 1000,
  typeMaxLength: 64,
  typePattern: /^[a-z0-9._-]+$/,
  payloadMaxBytes: 16 * 1024,
  payloadMaxDepth: 32,
  dedupeKeyMaxLength: 128,
  categoryMaxLength: 64,
  categoryPattern: /^[a-z0-9._-]+$/,
  collapseKeyMaxLength: 128,
  maxBatchItems: 1000,
  maxBatchRecipients: 10_000,
} as const;
