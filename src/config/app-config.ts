import {
  DEFAULT_QUEUE_NAME,
  type JwtVerificationOptions,
  type NotificationsModuleOptions,
} from '@rtnotify/nestjs';
import type { HttpTimeouts } from '../http/http-server.js';
import { parseClusterNodes, type RedisClusterConfig } from '../redis/redis-cluster.js';
import { ConfigError, parseEnvironment, type EnvironmentVariables } from './environment.js';

/** Used outside production when no JWT key is configured; the service warns loudly about it. */
export const DEVELOPMENT_JWT_SECRET = 'development-only-secret-do-not-use-in-production!';

export type Role = EnvironmentVariables['ROLE'];

export interface AppConfig {
  production: boolean;
  port: number;
  /** Unset: outside production, the service looks for (or starts) a local Redis. */
  redisUrl: string | undefined;
  /** Set (REDIS_CLUSTER_NODES): the service runs on this Redis Cluster instead of one Redis. */
  redisCluster: RedisClusterConfig | undefined;
  role: Role;
  queueName: string;
  /** True when no JWT key was configured and the development secret is in use. */
  usingDevelopmentSecret: boolean;
  shutdownTimeoutMs: number;
  /** Serve the demo page at `/` (DEMO=1, or outside production unless DEMO=0). */
  demo: boolean;
  /**
   * FALLBACK_LOG_JOBS=1: this service consumes the `fallback` jobs of FALLBACK_QUEUE itself and logs
   * each in place of sending an email (a demo's stand-in). Off by default: the queue is the host's,
   * and a second consumer would take jobs away from the real sender.
   */
  fallbackLogJobs: boolean;
  /**
   * DEV_TOKENS=1: serve `/dev/*` (which signs tokens for any user) although an operator's
   * JWT_SECRET is set; without it they exist only with the built-in development secret.
   */
  devTokens: boolean;
  /** Keys that producers present to `POST /v1/notifications`; empty: HTTP publish refuses all. */
  apiKeys: string[];
  /** When set, `GET /metrics` needs `Authorization: Bearer <metricsToken>`. */
  metricsToken: string | undefined;
  /** How long a job stays locked to its worker: a crashed worker's jobs are retried after it. */
  jobLockMs: number;
  /** Timeouts of the HTTP server. */
  http: HttpTimeouts;
  /**
   * The library's options; the service always configures token verification. An option whose
   * variable is unset is undefined here, and the library applies its default.
   */
  notifications: NotificationsModuleOptions & { jwt: JwtVerificationOptions };
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}

/** The service's configuration from the environment; throws ConfigError naming each bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const e = parseEnvironment(env);
  const production = e.NODE_ENV === 'production';
  if (e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP_REQUEST_TIMEOUT_MS) {
    throw new ConfigError([
      'HTTP_HEADERS_TIMEOUT_MS must not be greater than HTTP_REQUEST_TIMEOUT_MS',
    ]);
  }
  if (production && e.DEV_TOKENS === '1') {
    throw new ConfigError([
      'DEV_TOKENS=1 is not allowed in production: /dev/token signs tokens for any user',
    ]);
  }
  const usingDevelopmentSecret = !e.JWT_SECRET && !e.JWT_PUBLIC_KEY;
  const origins = e.ALLOWED_ORIGINS?.trim();
  return {
    production,
    port: e.PORT,
    redisUrl: e.REDIS_URL,
    redisCluster: e.REDIS_CLUSTER_NODES
      ? parseClusterNodes(e.REDIS_CLUSTER_NODES).config
      : undefined,
    role: e.ROLE,
    queueName: e.NOTIFY_QUEUE ?? DEFAULT_QUEUE_NAME,
    usingDevelopmentSecret,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    demo: e.DEMO === undefined ? !production : e.DEMO === '1',
    fallbackLogJobs: e.FALLBACK_LOG_JOBS === '1',
    devTokens: e.DEV_TOKENS === '1',
    apiKeys: list(e.API_KEYS),
    metricsToken: e.METRICS_TOKEN,
    jobLockMs: e.JOB_LOCK_MS,
    http: {
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    },
    notifications: {
      jwt: {
        secret: e.JWT_PUBLIC_KEY ? undefined : (e.JWT_SECRET ?? DEVELOPMENT_JWT_SECRET),
        publicKey: e.JWT_PUBLIC_KEY?.replace(/\\n/g, '\n'),
        algorithms: e.JWT_ALGORITHMS ? list(e.JWT_ALGORITHMS) : undefined,
        issuer: e.JWT_ISSUER,
        audience: e.JWT_AUDIENCE,
        maxLifetimeSeconds: e.JWT_MAX_TOKEN_LIFETIME_SECONDS,
      },
      // Outside production any origin may connect unless a list is given.
      allowedOrigins: origins === '*' ? '*' : origins ? list(origins) : production ? [] : '*',
      keyPrefix: e.KEY_PREFIX,
      historyLimit: e.HISTORY_LIMIT,
      historyMaxAgeSeconds: e.HISTORY_MAX_AGE_SECONDS,
      workerConcurrency: e.WORKER_CONCURRENCY,
      minReplicasAck: e.REDIS_MIN_REPLICAS_ACK,
      replicaAckTimeoutMs: e.REDIS_REPLICA_ACK_TIMEOUT_MS,
      fallback:
        e.FALLBACK_QUEUE === undefined
          ? undefined
          : {
              queue: e.FALLBACK_QUEUE,
              afterSeconds: e.FALLBACK_AFTER_SECONDS,
              whenOffline: e.FALLBACK_WHEN_OFFLINE === '1',
            },
      limits: {
        maxFrameBytes: e.MAX_FRAME_BYTES,
        maxSocketsPerUser: e.MAX_SOCKETS_PER_USER,
        maxMessagesPerMinute: e.MAX_MESSAGES_PER_MINUTE,
        pingIntervalMs: e.PING_INTERVAL_MS,
        pingTimeoutMs: e.PING_TIMEOUT_MS,
        maxBufferedBytes: e.MAX_BUFFERED_BYTES,
        tokenExpiryGraceMs: e.TOKEN_EXPIRY_GRACE_MS,
      },
    },
  };
}
