import { NOTIFICATIONS_DEFAULTS } from '@rtnotify/nestjs';
import { DEVELOPMENT_JWT_SECRET, loadConfig } from './app-config.js';
import { ConfigError } from './environment.js';

const GOOD_SECRET = 'a-production-secret-of-at-least-32-chars';

/** The ConfigError that loading `env` throws. */
const configErrorOf = (env: NodeJS.ProcessEnv): ConfigError => {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
};

describe(loadConfig.name, () => {
  describe('defaults', () => {
    it('applies every default with an empty environment', () => {
      const sut = loadConfig({});

      expect(sut).toMatchObject({
        production: false,
        port: 3000,
        redisUrl: undefined,
        role: 'all',
        queueName: 'notifications',
        usingDevelopmentSecret: true,
        shutdownTimeoutMs: 30_000,
      });
      expect(sut.notifications.allowedOrigins).toBe('*');
      expect(sut.notifications.jwt).toMatchObject({
        secret: DEVELOPMENT_JWT_SECRET,
        publicKey: undefined,
        algorithms: undefined,
      });
    });

    it("leaves the library's options unset, so that the library's defaults apply", () => {
      const sut = loadConfig({});

      expect(sut.notifications).toMatchObject({
        keyPrefix: undefined,
        historyLimit: undefined,
        historyMaxAgeSeconds: undefined,
        workerConcurrency: undefined,
      });
      expect(Object.values(sut.notifications.limits ?? {})).toEqual(Array(7).fill(undefined));
    });

    it('relies on the library for the defaults README\'s "Configuration" documents', () => {
      const sut = NOTIFICATIONS_DEFAULTS;

      expect(sut).toMatchObject({
        keyPrefix: 'notif',
        historyLimit: 1000,
        historyMaxAgeSeconds: 0,
        workerConcurrency: 32,
      });
      expect(sut.limits).toEqual({
        maxFrameBytes: 65_536,
        maxSocketsPerUser: 10,
        maxMessagesPerMinute: 100,
        pingIntervalMs: 25_000,
        pingTimeoutMs: 10_000,
        maxBufferedBytes: 1_048_576,
        tokenExpiryGraceMs: 5000,
      });
    });

    it('treats blank values as unset', () => {
      const sut = loadConfig({
        PORT: '',
        ROLE: '   ',
        REDIS_URL: '',
        JWT_SECRET: ' ',
        ALLOWED_ORIGINS: '',
        NOTIFY_QUEUE: '\t',
      });

      expect(sut).toMatchObject({
        port: 3000,
        role: 'all',
        redisUrl: undefined,
        queueName: 'notifications',
        usingDevelopmentSecret: true,
      });
      expect(sut.notifications.allowedOrigins).toBe('*');
    });

    it('ignores unrelated variables', () => {
      expect(loadConfig({ PATH: '/usr/bin', HOME: '/root' }).port).toBe(3000);
    });
  });

  describe('PORT', () => {
    it('reads a decimal port', () => {
      expect(loadConfig({ PORT: ' 8080 ' }).port).toBe(8080);
    });

    it.each(['abc', '1e3', '0x10', '10ms', '70000', '-1', '3000.5'])(
      'rejects %j, naming PORT',
      (PORT) => {
        const error = configErrorOf({ PORT });

        expect(error.message).toContain('PORT');
        expect(error.problems.every((problem) => problem.includes('PORT'))).toBe(true);
      },
    );
  });

  describe('ROLE', () => {
    it.each(['all', 'gateway', 'worker'] as const)('accepts %s', (ROLE) => {
      expect(loadConfig({ ROLE }).role).toBe(ROLE);
    });

    it('rejects an unknown role, naming ROLE', () => {
      expect(configErrorOf({ ROLE: 'boss' }).message).toContain('ROLE');
    });
  });

  describe('NODE_ENV', () => {
    it('rejects an unknown NODE_ENV', () => {
      expect(configErrorOf({ NODE_ENV: 'prod' }).message).toContain('NODE_ENV');
    });
  });

  describe('production', () => {
    it('requires JWT_SECRET', () => {
      const error = configErrorOf({ NODE_ENV: 'production' });

      expect(error.message).toContain('JWT_SECRET');
    });

    it('requires a secret of at least 32 characters', () => {
      const error = configErrorOf({ NODE_ENV: 'production', JWT_SECRET: 's'.repeat(16) });

      expect(error.problems).toEqual(['JWT_SECRET must be at least 32 characters']);
    });

    it('accepts a good secret, allowing same-origin sockets only', () => {
      const sut = loadConfig({ NODE_ENV: 'production', JWT_SECRET: GOOD_SECRET });

      expect(sut.production).toBe(true);
      expect(sut.usingDevelopmentSecret).toBe(false);
      expect(sut.notifications.jwt.secret).toBe(GOOD_SECRET);
      expect(sut.notifications.allowedOrigins).toEqual([]);
    });

    it("keeps an explicit '*' in production", () => {
      const sut = loadConfig({
        NODE_ENV: 'production',
        JWT_SECRET: GOOD_SECRET,
        ALLOWED_ORIGINS: '*',
      });

      expect(sut.notifications.allowedOrigins).toBe('*');
    });

    it('accepts a public key instead of a secret', () => {
      const JWT_PUBLIC_KEY = '-----BEGIN PUBLIC KEY-----\\nMIIB\\n-----END PUBLIC KEY-----';

      const sut = loadConfig({ NODE_ENV: 'production', JWT_PUBLIC_KEY });

      expect(sut.usingDevelopmentSecret).toBe(false);
      expect(sut.notifications.jwt.secret).toBeUndefined();
      expect(sut.notifications.jwt.publicKey).toBe(
        '-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----',
      );
    });
  });

  describe('ALLOWED_ORIGINS', () => {
    it('splits and trims a comma-separated list', () => {
      const sut = loadConfig({ ALLOWED_ORIGINS: 'https://a.example, https://b.example' });

      expect(sut.notifications.allowedOrigins).toEqual(['https://a.example', 'https://b.example']);
    });

    it('drops empty entries', () => {
      const sut = loadConfig({ ALLOWED_ORIGINS: 'https://a.example,, ,' });

      expect(sut.notifications.allowedOrigins).toEqual(['https://a.example']);
    });
  });

  describe('REDIS_URL', () => {
    it.each(['redis://localhost:6379', 'rediss://user:pw@redis.example:6380/2'])(
      'accepts %s',
      (REDIS_URL) => {
        expect(loadConfig({ REDIS_URL }).redisUrl).toBe(REDIS_URL);
      },
    );

    it.each(['http://x', 'localhost:6379', 'redis://'])('rejects %j, naming REDIS_URL', (url) => {
      expect(configErrorOf({ REDIS_URL: url }).message).toContain('REDIS_URL');
    });
  });

  describe('REDIS_CLUSTER_NODES', () => {
    it('is off by default', () => {
      expect(loadConfig({}).redisCluster).toBeUndefined();
    });

    it('reads host:port seeds', () => {
      const sut = loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-b:7001,[::1]:7002' });

      expect(sut.redisCluster).toEqual({
        nodes: [
          { host: '10.0.0.1', port: 7000 },
          { host: 'redis-b', port: 7001 },
          { host: '::1', port: 7002 },
        ],
        username: undefined,
        password: undefined,
        tls: false,
      });
    });

    it('takes credentials and TLS from URL seeds, for every node', () => {
      const sut = loadConfig({
        REDIS_CLUSTER_NODES: 'rediss://app:s%40cret@a.example:6379,b.example:6379',
      });

      expect(sut.redisCluster).toMatchObject({
        nodes: [
          { host: 'a.example', port: 6379 },
          { host: 'b.example', port: 6379 },
        ],
        username: 'app',
        password: 's@cret',
        tls: true,
      });
    });

    it.each([
      ['localhost', 'needs a port'],
      ['a:1,,b:2', 'is not host:port'],
      ['http://a:1', 'is not host:port'],
      ['user:pw@a:1', 'is not host:port'],
      ['a:70000', 'is not host:port'],
      ['a:0', 'needs a port'],
      ['redis://a', 'needs a port'],
      ['redis://a:1/2', 'no database number'],
      ['redis://a:1,rediss://b:2', 'TLS is all or nothing'],
      ['redis://u:p1@a:1,redis://u:p2@b:2', 'different credentials'],
    ])('rejects %j, naming REDIS_CLUSTER_NODES', (REDIS_CLUSTER_NODES, why) => {
      const error = configErrorOf({ REDIS_CLUSTER_NODES });

      expect(error.problems).toHaveLength(1);
      expect(error.problems[0]).toContain('REDIS_CLUSTER_NODES');
      expect(error.problems[0]).toContain(why);
    });

    it('never repeats a password in its message', () => {
      const error = configErrorOf({ REDIS_CLUSTER_NODES: 'redis://u:topsecret@a:1/2' });

      expect(error.message).not.toContain('topsecret');
    });

    it('refuses REDIS_URL and REDIS_CLUSTER_NODES together', () => {
      const error = configErrorOf({ REDIS_URL: 'redis://a:1', REDIS_CLUSTER_NODES: 'b:2' });

      expect(error.problems).toEqual(['set either REDIS_URL or REDIS_CLUSTER_NODES, not both']);
    });
  });

  describe('REDIS_MIN_REPLICAS_ACK', () => {
    it("is unset by default: the library's defaults apply (0, no WAIT; 1 s)", () => {
      expect(loadConfig({}).notifications).toMatchObject({
        minReplicasAck: undefined,
        replicaAckTimeoutMs: undefined,
      });
      expect(NOTIFICATIONS_DEFAULTS).toMatchObject({
        minReplicasAck: 0,
        replicaAckTimeoutMs: 1000,
      });
    });

    it('reads both', () => {
      const sut = loadConfig({ REDIS_MIN_REPLICAS_ACK: '1', REDIS_REPLICA_ACK_TIMEOUT_MS: '250' });

      expect(sut.notifications).toMatchObject({ minReplicasAck: 1, replicaAckTimeoutMs: 250 });
    });

    it.each([
      ['REDIS_MIN_REPLICAS_ACK', '-1'],
      ['REDIS_MIN_REPLICAS_ACK', '17'],
      ['REDIS_MIN_REPLICAS_ACK', 'one'],
      ['REDIS_REPLICA_ACK_TIMEOUT_MS', '0'],
      ['REDIS_REPLICA_ACK_TIMEOUT_MS', '60001'],
    ])('rejects %s=%j, naming it', (name, value) => {
      const error = configErrorOf({ [name]: value });

      expect(error.problems.every((problem) => problem.includes(name))).toBe(true);
    });
  });

  describe('FALLBACK_*', () => {
    it('is off by default', () => {
      expect(loadConfig({}).notifications.fallback).toBeUndefined();
    });

    it('reads the queue, the delay and whenOffline', () => {
      const sut = loadConfig({
        FALLBACK_QUEUE: 'emails',
        FALLBACK_AFTER_SECONDS: '600',
        FALLBACK_WHEN_OFFLINE: '1',
      });

      expect(sut.notifications.fallback).toEqual({
        queue: 'emails',
        afterSeconds: 600,
        whenOffline: true,
      });
    });

    it.each([
      ['FALLBACK_QUEUE', { FALLBACK_QUEUE: 'a:b' }],
      ['FALLBACK_AFTER_SECONDS', { FALLBACK_QUEUE: 'q', FALLBACK_AFTER_SECONDS: '-1' }],
      ['FALLBACK_AFTER_SECONDS', { FALLBACK_QUEUE: 'q', FALLBACK_AFTER_SECONDS: '2592001' }],
      ['FALLBACK_AFTER_SECONDS', { FALLBACK_QUEUE: 'q', FALLBACK_AFTER_SECONDS: '10s' }],
      ['FALLBACK_WHEN_OFFLINE', { FALLBACK_QUEUE: 'q', FALLBACK_WHEN_OFFLINE: 'yes' }],
      ['FALLBACK_QUEUE', { FALLBACK_AFTER_SECONDS: '60' }],
      ['FALLBACK_QUEUE', { FALLBACK_WHEN_OFFLINE: '1' }],
      ['FALLBACK_QUEUE', { FALLBACK_QUEUE: 'notifications' }],
      ['FALLBACK_QUEUE', { FALLBACK_QUEUE: 'jobs', NOTIFY_QUEUE: 'jobs' }],
      ['FALLBACK_LOG_JOBS', { FALLBACK_QUEUE: 'q', FALLBACK_LOG_JOBS: 'yes' }],
      ['FALLBACK_LOG_JOBS', { FALLBACK_LOG_JOBS: '1' }],
    ])('rejects a bad %s (%j), naming it', (name, env) => {
      const error = configErrorOf(env);

      expect(error.problems.some((problem) => problem.includes(name))).toBe(true);
    });

    it("consumes the fallback jobs itself only with FALLBACK_LOG_JOBS=1 (the queue is the host's)", () => {
      expect(loadConfig({ FALLBACK_QUEUE: 'emails' }).fallbackLogJobs).toBe(false);
      expect(loadConfig({ FALLBACK_QUEUE: 'emails', FALLBACK_LOG_JOBS: '1' }).fallbackLogJobs).toBe(
        true,
      );
    });

    it('takes a fallback queue named like the default notify queue when NOTIFY_QUEUE is another', () => {
      const sut = loadConfig({ FALLBACK_QUEUE: 'notifications', NOTIFY_QUEUE: 'jobs' });

      expect(sut.notifications.fallback?.queue).toBe('notifications');
    });
  });

  describe('JWT_ALGORITHMS', () => {
    it('reads a list', () => {
      expect(loadConfig({ JWT_ALGORITHMS: 'HS256,HS512' }).notifications.jwt.algorithms).toEqual([
        'HS256',
        'HS512',
      ]);
    });

    it.each(['HS256,none', 'none', 'HS128', 'hs256'])('rejects %j', (JWT_ALGORITHMS) => {
      expect(configErrorOf({ JWT_ALGORITHMS }).message).toContain('JWT_ALGORITHMS');
    });
  });

  describe('DEMO', () => {
    it('serves the demo outside production by default, not in production', () => {
      expect(loadConfig({}).demo).toBe(true);
      expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: GOOD_SECRET }).demo).toBe(false);
    });

    it('lets DEMO=1 turn it on in production and DEMO=0 turn it off anywhere', () => {
      expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: GOOD_SECRET, DEMO: '1' }).demo).toBe(
        true,
      );
      expect(loadConfig({ DEMO: '0' }).demo).toBe(false);
    });

    it.each(['yes', 'true', '2'])('rejects DEMO=%j, naming DEMO', (DEMO) => {
      expect(configErrorOf({ DEMO }).message).toContain('DEMO must be 0 or 1');
    });
  });

  describe('HTTP timeouts', () => {
    it('bounds headers to 10 s, requests to 30 s, idle keep-alive to 5 s by default', () => {
      expect(loadConfig({}).http).toEqual({
        headersTimeoutMs: 10_000,
        requestTimeoutMs: 30_000,
        keepAliveTimeoutMs: 5000,
      });
    });

    it('refuses a headers timeout longer than the request timeout', () => {
      const error = configErrorOf({
        HTTP_HEADERS_TIMEOUT_MS: '20000',
        HTTP_REQUEST_TIMEOUT_MS: '10000',
      });
      expect(error.message).toContain('HTTP_HEADERS_TIMEOUT_MS');
    });

    it.each(['HTTP_HEADERS_TIMEOUT_MS', 'HTTP_REQUEST_TIMEOUT_MS', 'HTTP_KEEP_ALIVE_TIMEOUT_MS'])(
      'rejects %s=0',
      (name) => {
        expect(configErrorOf({ [name]: '0' }).message).toContain(name);
      },
    );
  });

  describe('JWT_MAX_TOKEN_LIFETIME_SECONDS', () => {
    it('bounds tokens to a day by default; 0 turns the bound off', () => {
      expect(loadConfig({}).notifications.jwt.maxLifetimeSeconds).toBe(86_400);
      expect(
        loadConfig({ JWT_MAX_TOKEN_LIFETIME_SECONDS: '0' }).notifications.jwt.maxLifetimeSeconds,
      ).toBe(0);
    });

    it.each(['-1', '1d', '1e3'])('rejects %j', (value) => {
      expect(configErrorOf({ JWT_MAX_TOKEN_LIFETIME_SECONDS: value }).message).toContain(
        'JWT_MAX_TOKEN_LIFETIME_SECONDS',
      );
    });
  });

  describe('METRICS_TOKEN', () => {
    it('is unset by default (metrics are public)', () => {
      expect(loadConfig({}).metricsToken).toBeUndefined();
    });

    it('reads a token, and refuses a short one', () => {
      expect(loadConfig({ METRICS_TOKEN: 'm'.repeat(16) }).metricsToken).toBe('m'.repeat(16));
      expect(configErrorOf({ METRICS_TOKEN: 'short' }).message).toContain('METRICS_TOKEN');
    });
  });

  describe('DEV_TOKENS', () => {
    it('is off unless set to 1', () => {
      expect(loadConfig({}).devTokens).toBe(false);
      expect(loadConfig({ DEV_TOKENS: '0' }).devTokens).toBe(false);
      expect(loadConfig({ DEV_TOKENS: '1', JWT_SECRET: GOOD_SECRET }).devTokens).toBe(true);
    });

    it('is refused in production', () => {
      const error = configErrorOf({
        NODE_ENV: 'production',
        JWT_SECRET: GOOD_SECRET,
        DEV_TOKENS: '1',
      });
      expect(error.message).toContain('DEV_TOKENS=1 is not allowed in production');
    });

    it.each(['true', 'yes'])('rejects DEV_TOKENS=%j', (DEV_TOKENS) => {
      expect(configErrorOf({ DEV_TOKENS }).message).toContain('DEV_TOKENS must be 0 or 1');
    });
  });

  describe('numbers', () => {
    it('reads numeric limits', () => {
      const sut = loadConfig({ HISTORY_LIMIT: '50', MAX_SOCKETS_PER_USER: '3' });

      expect(sut.notifications.historyLimit).toBe(50);
      expect(sut.notifications.limits?.maxSocketsPerUser).toBe(3);
    });

    it('names every bad value at once', () => {
      const error = configErrorOf({ PORT: 'x', ROLE: 'boss', HISTORY_LIMIT: '0' });

      expect(error.message).toContain('PORT');
      expect(error.message).toContain('ROLE');
      expect(error.message).toContain('HISTORY_LIMIT');
    });

    it.each(['SHUTDOWN_TIMEOUT_MS', 'PING_INTERVAL_MS', 'PING_TIMEOUT_MS'])(
      'rejects %s above what a timer can hold',
      (name) => {
        expect(configErrorOf({ [name]: '3000000000' }).message).toContain(name);
      },
    );

    it('accepts spaces in JWT_ALGORITHMS', () => {
      expect(loadConfig({ JWT_ALGORITHMS: 'HS256, HS384' }).notifications.jwt.algorithms).toEqual([
        'HS256',
        'HS384',
      ]);
    });
  });
});
