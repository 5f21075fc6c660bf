import type { JobsOptions, WorkerOptions } from 'bullmq';

/** How the gateway and the HTTP inbox verify a user's JWT. */
export interface JwtVerificationOptions {
  /** Shared secret for HMAC algorithms. One of `secret` or `publicKey` is required. */
  secret?: string;
  /** PEM-encoded public key (SPKI) for RSA, RSA-PSS, EC or EdDSA algorithms. */
  publicKey?: string;
  /**
   * The only algorithms a token may be signed with; anything else (including `none`) is refused.
   * @default ['HS256'] with a secret, ['RS256'] with a public key
   */
  algorithms?: string[];
  /** Required `iss` claim, when set. */
  issuer?: string;
  /** Required `aud` claim, when set. */
  audience?: string;
  /**
   * Seconds of clock skew tolerated on `exp` and `nbf`.
   * @default 5
   */
  clockToleranceSeconds?: number;
}

/** Per-socket and per-user limits of the gateway. */
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

export interface NotificationsModuleOptions {
  /** JWT verification settings; tokens carry the user id in `sub`. */
  jwt: JwtVerificationOptions;
  /**
   * Browser origins allowed to open a socket. `'*'` allows any origin. Sockets without an `Origin`
   * header (non-browser clients) are always allowed: the token is what authenticates them.
   * @default [] (same-origin only: the `Origin` host must equal the `Host` header)
   */
  allowedOrigins?: string[] | '*';
  /**
   * Prefix of the store's Redis keys and channels.
   * @default 'notif'
   */
  keyPrefix?: string;
  /**
   * Notifications kept per user; older ones are trimmed (and a resume from before them is `truncated`).
   * @default 1000
   */
  historyLimit?: number;
  /**
   * Seconds a notification is kept at most; 0 keeps them until `historyLimit` trims them.
   * @default 0
   */
  historyMaxAgeSeconds?: number;
  /**
   * Jobs processed at once by this instance's worker.
   * @default 8
   */
  workerConcurrency?: number;
  /** Gateway limits; each one not given takes its default. */
  limits?: Partial<NotificationLimits>;
  /**
   * Options of the jobs `NotificationService` enqueues.
   * @default { attempts: 5, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: { age: 3600, count: 10000 }, removeOnFail: { age: 604800 } }
   */
  jobOptions?: JobsOptions;
  /**
   * Milliseconds `NotificationService` waits for Redis to take a job before it throws
   * `NotificationsUnavailableError` (while Redis is known to be down it throws at once).
   * @default 5000
   */
  enqueueTimeoutMs?: number;
  /**
   * Milliseconds between two sweeps of the worker for notifications past their `expiresAt` (open
   * sockets are told `removed`; a read of the inbox removes them anyway); 0 turns the sweeps off.
   * @default 1000
   */
  expirySweepIntervalMs?: number;
}

/** Static options of the BullMQ worker (its connection comes from the host's `BullModule`). */
export type NotificationsWorkerOptions = Pick<
  WorkerOptions,
  'lockDuration' | 'stalledInterval' | 'maxStalledCount' | 'drainDelay'
>;

/** Options fixed when the module is declared (also with `forRootAsync`). */
export interface NotificationsModuleExtras {
  /** Register the module globally. @default false */
  isGlobal?: boolean;
  /** The BullMQ queue of `notify` jobs; it must be known statically. @default 'notifications' */
  queueName?: string;
  /** Serve the WebSocket gateway on this instance. @default true */
  gateway?: boolean;
  /** Consume `notify` jobs on this instance. @default true */
  worker?: boolean;
  /**
   * BullMQ worker options. `lockDuration` (with `stalledInterval`) bounds how long the jobs of a
   * crashed worker wait before another worker retries them.
   * @default BullMQ's (lockDuration 30000, stalledInterval 30000)
   */
  workerOptions?: NotificationsWorkerOptions;
}
