import { BullModule, type BullRootModuleOptions } from '@nestjs/bullmq';
import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { NotificationsModule } from '@rtnotify/nestjs';
import type { AppConfig } from './config/app-config.js';
import { DemoModule } from './demo/demo.module.js';
import { FallbackMailModule } from './fallback/fallback-mail.module.js';
import { HealthController } from './health/health.controller.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { METRICS_TOKEN } from './auth/metrics-token.guard.js';
import { CLUSTER_QUEUE_PREFIX, createRedisCluster } from './redis/redis-cluster.js';
import { REDIS_CLUSTER, RedisClusterCloser } from './redis/redis-cluster.provider.js';
import { redisOptionsFromUrl } from './redis/redis-url.js';

/**
 * BullMQ's connection, which the library takes too: one Redis (`REDIS_URL`), or a Redis Cluster
 * (`REDIS_CLUSTER_NODES`) with a hash-tagged queue prefix, and the provider that closes it.
 */
function redisConnection(config: AppConfig & { redisUrl?: string }): {
  bull: BullRootModuleOptions;
  providers: Provider[];
} {
  if (config.redisCluster) {
    const cluster = createRedisCluster(config.redisCluster);
    return {
      bull: { connection: cluster, prefix: CLUSTER_QUEUE_PREFIX },
      providers: [{ provide: REDIS_CLUSTER, useValue: cluster }, RedisClusterCloser],
    };
  }
  if (!config.redisUrl) throw new Error('AppModule: a Redis URL or a Redis Cluster is required');
  return { bull: { connection: redisOptionsFromUrl(config.redisUrl) }, providers: [] };
}

/**
 * The runnable service: the notifications library on the host's Redis, by role, with its HTTP inbox
 * (not on workers), publish and presence routes, plus health, metrics, the demo page and, with a
 * fallback queue, a worker that logs the fallback jobs in place of sending emails.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig & { redisUrl?: string }): DynamicModule {
    const redis = redisConnection(config);
    return {
      module: AppModule,
      imports: [
        BullModule.forRoot(redis.bull),
        NotificationsModule.forRoot({
          ...config.notifications,
          apiKeys: config.apiKeys,
          isGlobal: true,
          queueName: config.queueName,
          gateway: config.role !== 'worker',
          worker: config.role !== 'gateway',
          workerOptions: { lockDuration: config.jobLockMs, stalledInterval: config.jobLockMs },
          http: { inbox: config.role !== 'worker', publish: true, presence: true },
        }),
        TerminusModule.forRoot({ logger: false }),
        ...(config.demo && config.role !== 'worker' ? [DemoModule.forRoot(config)] : []),
        // FALLBACK_LOG_JOBS=1: the service's own stand-in for a mail server consumes the fallback jobs.
        ...(config.notifications.fallback && config.fallbackLogJobs && config.role !== 'gateway'
          ? [FallbackMailModule.forRoot(config.notifications.fallback.queue)]
          : []),
      ],
      controllers: [HealthController, MetricsController],
      providers: [{ provide: METRICS_TOKEN, useValue: config.metricsToken }, ...redis.providers],
    };
  }
}
