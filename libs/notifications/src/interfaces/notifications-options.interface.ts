import type { NotificationLimits } from '@rtnotify/protocol';
import type { JobsOptions, WorkerOptions } from 'bullmq';

/**
 * How the gateway and the HTTP inbox verify a user's JWT (and how `NotificationTokenIssuer` signs
 * one, with `secret`).
 */
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
  /**
   * Longest a token may still be valid when it is presented: a token whose `exp` is further in the
   * future is refused ('token lifetime too long'), so that a leaked long-lived token is worth
   * little. Unset or 0: no bound.
   * @default undefined
   */
  maxLifetimeSeconds?: number;
}

/** Options of `NotificationsModule.forRoot` (or of the factory of `forRootAsync`). */
export interface NotificationsModuleOptions {
  /**
   * JWT verification settings; tokens carry the user id in `sub`. Required by the gateway and the
   * HTTP inbox; an instance that only produces or only runs the worker needs none.
   */
  jwt?: JwtVerificationOptions;
  /**
   * Keys that producers present to the HTTP publish route as `Authorization: Bearer <key>` (with
   * `http.publish`). Empty: every publish is refused with 401.
   * @default []
   */
  apiKeys?: string[];
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
   * Replicas that must acknowledge (Redis `WAIT`) a job's stored notifications before the job
   * completes; a job that gets fewer within `replicaAckTimeoutMs` fails and is retried. Redis
   * replicates asynchronously: with 0, a master that dies can take the last acknowledged writes with
   * it; with 1 or more they survive a failover to an acknowledging replica.
   * @default 0
   */
  minReplicasAck?: number;
  /**
   * Milliseconds `WAIT` may take for `minReplicasAck` replicas.
   * @default 1000
   */
  replicaAckTimeoutMs?: number;
  /**
   * Milliseconds between two sweeps of the worker for notifications past their `expiresAt` (open
   * sockets are told `removed`; a read of the inbox removes them anyway); 0 turns the sweeps off.
   * @default 1000
   */
  expirySweepIntervalMs?: number;
  /** Fallback jobs for notifications that stay unread (or reach an offline user). Off unless given. */
  fallback?: NotificationsFallbackOptions;
}

/**
 * Fallback to another channel (email, push…) for notifications that stay unread: the worker adds one
 * job named `fallback` with data `{userId, notification}` (`FallbackJobData`) to the host's queue
 * `queue`, for the host's own worker to send. Exactly one per notification, none when it was read,
 * archived, collapsed or expired in time, or when the user turned fallback off for its category
 * (unless the job was `critical`).
 */
export interface NotificationsFallbackOptions {
  /**
   * The host's BullMQ queue of `fallback` jobs, on the same Redis connection and key prefix as the
   * notify queue; not the notify queue itself (`queueName`: refused at start).
   */
  queue: string;
  /**
   * Seconds after which a notification still unread gets its fallback; a job's
   * `fallbackAfterSeconds` overrides it; 0 or unset: none (but see `whenOffline`). At most 30 days.
   * @default undefined
   */
  afterSeconds?: number;
  /**
   * Fallback at once for a notification stored while the user had no open socket on any gateway
   * (no live presence entry); a job's `fallbackAfterSeconds: 0` still means none.
   * @default false
   */
  whenOffline?: boolean;
}

/** Static options of the BullMQ worker (its connection comes from the host's `BullModule`). */
export type NotificationsWorkerOptions = Pick<
  WorkerOptions,
  'lockDuration' | 'stalledInterval' | 'maxStalledCount' | 'drainDelay'
>;

/** Which HTTP routes the module serves (relative to the host's global prefix, if any). */
export interface NotificationsHttpOptions {
  /**
   * The signed-in user's inbox, authenticated by the same JWT as the socket
   * (`Authorization: Bearer <jwt>`): `GET v1/me/notifications` and `POST v1/me/notifications/read`,
   * and the user's preferences: `GET` / `PATCH v1/me/preferences`.
   * @default true
   */
  inbox?: boolean;
  /**
   * `POST v1/notifications` for producers in any language: the body is the job contract,
   * authenticated by one of `apiKeys`.
   * @default true
   */
  publish?: boolean;
  /**
   * `GET v1/presence?userIds=a,b` and `POST v1/presence` with `{"userIds": ["a", "b"]}` →
   * `{"online": {"a": true, "b": false}}`: whether each of 1–1000 users has a socket open on some
   * gateway, authenticated by one of `apiKeys`.
   * @default true
   */
  presence?: boolean;
}

/** Options fixed when the module is declared (also with `forRootAsync`). */
export interface NotificationsModuleExtras {
  /** Register the module globally. @default false */
  isGlobal?: boolean;
  /** The BullMQ queue of `notify` jobs; it must be known statically. @default 'notifications' */
  queueName?: string;
  /** Serve the WebSocket gateway on this instance. @default true */
  gateway?: boolean;
  /** The path of the WebSocket endpoint, on the HTTP server's port. @default '/ws' */
  socketPath?: string;
  /** Consume `notify` jobs on this instance. @default true */
  worker?: boolean;
  /**
   * BullMQ worker options. `lockDuration` (with `stalledInterval`) bounds how long the jobs of a
   * crashed worker wait before another worker retries them.
   * @default BullMQ's (lockDuration 30000, stalledInterval 30000)
   */
  workerOptions?: NotificationsWorkerOptions;
  /**
   * Serve the HTTP inbox, publish and presence routes, and map the library's errors on every HTTP route of
   * the host to 400 and 503 (a global exception filter). Off unless given.
   */
  http?: NotificationsHttpOptions;
}
