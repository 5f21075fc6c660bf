import { plainToInstance } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
  ValidateBy,
  ValidateIf,
  type ValidationArguments,
} from 'class-validator';
import { DEFAULT_QUEUE_NAME } from '@rtnotify/nestjs';
import { parseClusterNodes } from '../redis/redis-cluster.js';

/** What is wrong with REDIS_CLUSTER_NODES, in one message; undefined when nothing is. */
function clusterNodesProblem(value: unknown, env: EnvironmentVariables): string | undefined {
  if (env.REDIS_URL !== undefined) return 'set either REDIS_URL or REDIS_CLUSTER_NODES, not both';
  const { problems } = parseClusterNodes(String(value));
  return problems.length > 0 ? problems.join('; ') : undefined;
}

/** The queue of notify jobs: NOTIFY_QUEUE, else the library's default. */
const notifyQueueOf = (env: EnvironmentVariables): string => env.NOTIFY_QUEUE ?? DEFAULT_QUEUE_NAME;

/**
 * The service's environment. Every variable is optional and has a documented default (README,
 * "Configuration"); the values are checked at start and a bad one stops the service. A variable
 * that sets a library option has no default here: unset, the option is left out and the library's
 * own default (`NOTIFICATIONS_DEFAULTS`, the protocol's `DEFAULT_LIMITS` and `DEFAULT_QUEUE_NAME`)
 * applies.
 */
export class EnvironmentVariables {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsOptional()
  @Matches(/^rediss?:\/\/.+/, {
    message: 'REDIS_URL must look like redis://[user:password@]host:port[/db]',
  })
  REDIS_URL?: string;

  @IsOptional()
  @ValidateBy({
    name: 'redisClusterNodes',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) =>
        clusterNodesProblem(value, args?.object as EnvironmentVariables) === undefined,
      defaultMessage: (args?: ValidationArguments) =>
        clusterNodesProblem(args?.value, args?.object as EnvironmentVariables) ?? '',
    },
  })
  REDIS_CLUSTER_NODES?: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(16)
  REDIS_MIN_REPLICAS_ACK?: number;

  @IsOptional()
  @IsInt()
  @Min(10)
  @Max(60_000)
  REDIS_REPLICA_ACK_TIMEOUT_MS?: number;

  @ValidateIf((env: EnvironmentVariables) => env.NODE_ENV === 'production' && !env.JWT_PUBLIC_KEY)
  @IsString({ message: 'JWT_SECRET or JWT_PUBLIC_KEY is required in production' })
  @MinLength(32, { message: 'JWT_SECRET must be at least 32 characters' })
  JWT_SECRET?: string;

  @IsOptional()
  @IsString()
  @Matches(/-----BEGIN PUBLIC KEY-----/, { message: 'JWT_PUBLIC_KEY must be a PEM "PUBLIC KEY"' })
  JWT_PUBLIC_KEY?: string;

  @IsOptional()
  @Matches(/^(HS|RS|PS|ES)(256|384|512)(,(HS|RS|PS|ES)(256|384|512))*$|^EdDSA$/, {
    message: 'JWT_ALGORITHMS must be a comma-separated list such as HS256 or RS256,ES256',
  })
  JWT_ALGORITHMS?: string;

  @IsOptional()
  @IsString()
  JWT_ISSUER?: string;

  @IsOptional()
  @IsString()
  JWT_AUDIENCE?: string;

  @IsInt()
  @Min(0)
  @Max(10 * 365 * 24 * 3600)
  JWT_MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600;

  @IsOptional()
  @Matches(/^[\x21-\x7e]{16,256}$/, {
    message: 'METRICS_TOKEN must be 16-256 printable characters',
  })
  METRICS_TOKEN?: string;

  @IsOptional()
  @IsString()
  ALLOWED_ORIGINS?: string;

  @IsOptional()
  @IsIn(['0', '1'], { message: 'DEMO must be 0 or 1' })
  DEMO?: '0' | '1';

  @IsOptional()
  @IsIn(['0', '1'], { message: 'DEV_TOKENS must be 0 or 1' })
  DEV_TOKENS?: '0' | '1';

  @IsOptional()
  @Matches(/^[\x21-\x7e]{16,256}(,[\x21-\x7e]{16,256})*$/, {
    message: 'API_KEYS must be a comma-separated list of keys of 16-256 printable characters',
  })
  API_KEYS?: string;

  @IsIn(['all', 'gateway', 'worker'])
  ROLE: 'all' | 'gateway' | 'worker' = 'all';

  @IsOptional()
  @Matches(/^[A-Za-z0-9_.-]{1,64}$/, { message: 'NOTIFY_QUEUE must be 1-64 of A-Z a-z 0-9 _ . -' })
  NOTIFY_QUEUE?: string;

  @IsOptional()
  @Matches(/^[A-Za-z0-9_.-]{1,64}$/, { message: 'KEY_PREFIX must be 1-64 of A-Z a-z 0-9 _ . -' })
  KEY_PREFIX?: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  WORKER_CONCURRENCY?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100_000)
  HISTORY_LIMIT?: number;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10 * 365 * 24 * 3600)
  HISTORY_MAX_AGE_SECONDS?: number;

  @IsOptional()
  @IsInt()
  @Min(1024)
  @Max(16 * 1024 * 1024)
  MAX_FRAME_BYTES?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  MAX_SOCKETS_PER_USER?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  MAX_MESSAGES_PER_MINUTE?: number;

  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  PING_INTERVAL_MS?: number;

  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  PING_TIMEOUT_MS?: number;

  @IsOptional()
  @IsInt()
  @Min(1024)
  @Max(1024 * 1024 * 1024)
  MAX_BUFFERED_BYTES?: number;

  @IsInt()
  @Min(0)
  @Max(600_000)
  SHUTDOWN_TIMEOUT_MS = 30_000;

  @IsInt()
  @Min(1000)
  @Max(600_000)
  JOB_LOCK_MS = 30_000;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  TOKEN_EXPIRY_GRACE_MS?: number;

  @IsInt()
  @Min(1000)
  @Max(600_000)
  HTTP_HEADERS_TIMEOUT_MS = 10_000;

  @IsInt()
  @Min(1000)
  @Max(3_600_000)
  HTTP_REQUEST_TIMEOUT_MS = 30_000;

  @IsInt()
  @Min(1000)
  @Max(600_000)
  HTTP_KEEP_ALIVE_TIMEOUT_MS = 5000;

  @ValidateIf(
    (env: EnvironmentVariables) =>
      env.FALLBACK_QUEUE !== undefined ||
      env.FALLBACK_AFTER_SECONDS !== undefined ||
      env.FALLBACK_WHEN_OFFLINE !== undefined,
  )
  @IsString({ message: 'FALLBACK_AFTER_SECONDS and FALLBACK_WHEN_OFFLINE need FALLBACK_QUEUE' })
  @Matches(/^[A-Za-z0-9_.-]{1,64}$/, {
    message: 'FALLBACK_QUEUE must be 1-64 of A-Z a-z 0-9 _ . -',
  })
  @ValidateBy({
    name: 'notNotifyQueue',
    validator: {
      // The service's own worker would take every fallback job and fail it (unknown job name).
      validate: (value: unknown, args?: ValidationArguments) =>
        value !== notifyQueueOf(args?.object as EnvironmentVariables),
      defaultMessage: (args?: ValidationArguments) =>
        `FALLBACK_QUEUE must differ from NOTIFY_QUEUE ("${notifyQueueOf(args?.object as EnvironmentVariables)}"): the host's own worker reads it`,
    },
  })
  FALLBACK_QUEUE?: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(30 * 24 * 3600)
  FALLBACK_AFTER_SECONDS?: number;

  @IsOptional()
  @IsIn(['0', '1'], { message: 'FALLBACK_WHEN_OFFLINE must be 0 or 1' })
  FALLBACK_WHEN_OFFLINE?: '0' | '1';

  @ValidateIf((env: EnvironmentVariables) => env.FALLBACK_LOG_JOBS !== undefined)
  @IsIn(['0', '1'], { message: 'FALLBACK_LOG_JOBS must be 0 or 1' })
  @ValidateBy({
    name: 'needsFallbackQueue',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) =>
        value !== '1' ||
        (args?.object as EnvironmentVariables | undefined)?.FALLBACK_QUEUE !== undefined,
      defaultMessage: () => 'FALLBACK_LOG_JOBS=1 needs FALLBACK_QUEUE',
    },
  })
  FALLBACK_LOG_JOBS?: '0' | '1';
}

/** The numbers with no default here: unset, they fall through to the library's defaults. */
const LIBRARY_NUMBERS: (keyof EnvironmentVariables)[] = [
  'REDIS_MIN_REPLICAS_ACK',
  'REDIS_REPLICA_ACK_TIMEOUT_MS',
  'WORKER_CONCURRENCY',
  'HISTORY_LIMIT',
  'HISTORY_MAX_AGE_SECONDS',
  'MAX_FRAME_BYTES',
  'MAX_SOCKETS_PER_USER',
  'MAX_MESSAGES_PER_MINUTE',
  'PING_INTERVAL_MS',
  'PING_TIMEOUT_MS',
  'MAX_BUFFERED_BYTES',
  'TOKEN_EXPIRY_GRACE_MS',
  'FALLBACK_AFTER_SECONDS',
];

const NUMERIC: (keyof EnvironmentVariables)[] = [
  'PORT',
  ...LIBRARY_NUMBERS,
  'SHUTDOWN_TIMEOUT_MS',
  'JOB_LOCK_MS',
  'HTTP_HEADERS_TIMEOUT_MS',
  'HTTP_REQUEST_TIMEOUT_MS',
  'HTTP_KEEP_ALIVE_TIMEOUT_MS',
  'JWT_MAX_TOKEN_LIFETIME_SECONDS',
];

/** The variables without a default here (not own properties of a fresh instance). */
const OPTIONAL: (keyof EnvironmentVariables)[] = [
  'REDIS_URL',
  'REDIS_CLUSTER_NODES',
  'JWT_SECRET',
  'JWT_PUBLIC_KEY',
  'JWT_ALGORITHMS',
  'JWT_ISSUER',
  'JWT_AUDIENCE',
  'ALLOWED_ORIGINS',
  'DEMO',
  'DEV_TOKENS',
  'API_KEYS',
  'METRICS_TOKEN',
  'NOTIFY_QUEUE',
  'KEY_PREFIX',
  'FALLBACK_QUEUE',
  'FALLBACK_WHEN_OFFLINE',
  'FALLBACK_LOG_JOBS',
  ...LIBRARY_NUMBERS,
];

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

/** Reads the known variables from `env` (blank counts as unset), applies defaults and validates. */
export function parseEnvironment(env: NodeJS.ProcessEnv): EnvironmentVariables {
  const defaults = new EnvironmentVariables();
  const plain: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(defaults), ...OPTIONAL])) {
    const raw = env[key]?.trim();
    if (raw === undefined || raw === '') continue;
    // Numbers must be plain decimal integers: "1e3", "0x10" or "10ms" are mistakes, not numbers.
    if (key === 'JWT_ALGORITHMS' || key === 'API_KEYS') {
      plain[key] = raw.replace(/\s+/g, '');
      continue;
    }
    plain[key] = NUMERIC.includes(key as keyof EnvironmentVariables)
      ? /^-?\d+$/.test(raw)
        ? Number(raw)
        : raw
      : raw;
  }
  const parsed = plainToInstance(EnvironmentVariables, plain);
  const errors = validateSync(parsed, { forbidUnknownValues: true });
  if (errors.length > 0) {
    throw new ConfigError(
      errors.flatMap((error) => Object.values(error.constraints ?? {}).map((m) => `${m}`)),
    );
  }
  return parsed;
}
