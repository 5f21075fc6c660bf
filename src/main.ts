import { Logger } from '@nestjs/common';
import { createApp } from './bootstrap.js';
import { ConfigError, loadConfig } from './config/index.js';
import { describeClusterNodes } from './redis/redis-cluster.js';
import { resolveRedis, type ResolvedRedis } from './redis/resolve-redis.js';
import { redactRedisUrl } from './redis/redis-url.js';

/** EX_CONFIG from sysexits.h: the configuration is wrong. */
const EXIT_CONFIG = 78;
const EXIT_UNAVAILABLE = 69;

async function bootstrap(): Promise<void> {
  const logger = new Logger('Bootstrap');
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(EXIT_CONFIG);
  }
  if (config.usingDevelopmentSecret) {
    logger.warn(
      '!!! JWT_SECRET is unset: using the built-in DEVELOPMENT secret. Anyone can forge tokens. ' +
        'Set JWT_SECRET (or JWT_PUBLIC_KEY) before exposing this service. !!!',
    );
  }
  // A Redis Cluster is used as configured; otherwise one Redis is found (or started, in development).
  let redis: ResolvedRedis | undefined;
  if (!config.redisCluster) {
    try {
      redis = await resolveRedis(config, logger);
    } catch (error) {
      console.error((error as Error).message);
      process.exit(EXIT_UNAVAILABLE);
    }
  }
  const app = await createApp({ ...config, redisUrl: redis?.url });
  const local = redis?.local;
  if (local) process.once('exit', () => local.process.kill('SIGTERM'));

  // Shutdown: stop taking sockets and jobs, let in-flight jobs finish, close sockets with 1001,
  // all within SHUTDOWN_TIMEOUT_MS; then exit 0 (1 when it had to be cut short).
  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    logger.log(`${signal} received: shutting down`);
    setTimeout(() => {
      logger.error(`shutdown did not finish within ${config.shutdownTimeoutMs} ms: exiting`);
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    app
      .close()
      .then(() => local?.stop())
      .then(
        () => process.exit(0),
        (error: Error) => {
          logger.error(`shutdown failed: ${error.message}`);
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);

  // Every interface, IPv6 and IPv4 (Fastify's own default is localhost only).
  await app.listen(config.port, '::');
  logger.log(
    `role=${config.role} listening on http://localhost:${config.port} ` +
      `(WebSocket ws://localhost:${config.port}/ws), Redis ` +
      (config.redisCluster
        ? describeClusterNodes(config.redisCluster)
        : redactRedisUrl(redis?.url ?? '')),
  );
}

await bootstrap();
