import { BullModule } from '@nestjs/bullmq';
import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { NotificationsModule } from '@rtnotify/nestjs';
import type { AppConfig } from './config/app-config.js';
import { DemoModule } from './demo/demo.module.js';
import { HealthController } from './health/health.controller.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { METRICS_TOKEN } from './metrics/metrics-token.guard.js';
import { redisOptionsFromUrl } from './redis/redis-url.js';

/**
 * The runnable service: the notifications library on the host's Redis, by role, with its HTTP inbox
 * (not on workers) and publish routes, plus health, metrics and the demo page.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig & { redisUrl: string }): DynamicModule {
    return {
      module: AppModule,
      imports: [
        BullModule.forRoot({ connection: redisOptionsFromUrl(config.redisUrl) }),
        NotificationsModule.forRoot({
          ...config.notifications,
          apiKeys: config.apiKeys,
          isGlobal: true,
          queueName: config.queueName,
          gateway: config.role !== 'worker',
          worker: config.role !== 'gateway',
          workerOptions: { lockDuration: config.jobLockMs, stalledInterval: config.jobLockMs },
          http: { inbox: config.role !== 'worker', publish: true },
        }),
        TerminusModule.forRoot({ logger: false }),
        ...(config.demo && config.role !== 'worker' ? [DemoModule.forRoot(config)] : []),
      ],
      controllers: [HealthController, MetricsController],
      providers: [{ provide: METRICS_TOKEN, useValue: config.metricsToken }],
    };
  }
}
