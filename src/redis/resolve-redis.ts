import type { LoggerService } from '@nestjs/common';
import type { AppConfig } from '../config/app-config.js';
import { redisAnswers, startLocalRedis, type LocalRedis } from './local-redis.js';

export interface ResolvedRedis {
  url: string;
  /** Set when the service started its own throwaway Redis. */
  local?: LocalRedis;
}

/**
 * The Redis to use: REDIS_URL when set; else, outside production, one answering at the usual address
 * (127.0.0.1:6379); else a throwaway `redis-server` started on a free port.
 */
export async function resolveRedis(
  config: Pick<AppConfig, 'redisUrl' | 'production'>,
  logger: Pick<LoggerService, 'warn'>,
  usual = { host: '127.0.0.1', port: 6379 },
): Promise<ResolvedRedis> {
  const usualUrl = `redis://${usual.host}:${usual.port}`;
  if (config.redisUrl) return { url: config.redisUrl };
  if (config.production) return { url: usualUrl };
  if (await redisAnswers(usual.host, usual.port)) return { url: usualUrl };
  const local = await startLocalRedis();
  logger.warn(
    `No Redis on ${usual.host}:${usual.port} and REDIS_URL is unset: started a throwaway ` +
      `redis-server on ${local.url} (pid ${local.process.pid}); its data is lost when the service stops.`,
    'Redis',
  );
  return { url: local.url, local };
}
