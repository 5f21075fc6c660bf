import { NotificationsModule } from '@app/notifications';
import { BullModule } from '@nestjs/bullmq';
import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { APP_PIPE } from '@nestjs/core';
import { APP_CONFIG } from './app.constants.js';
import type { AppConfig } from './config/app-config.js';
import { DemoModule } from './demo/demo.module.js';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health/health.controller.js';
import { StrictValidationPipe } from './common/strict-validation.pipe.js';
import { InboxController } from './inbox/inbox.controller.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { PublishController } from './publish/publish.controller.js';
import { redisOptionsFromUrl } from './redis/redis-url.js';

/** Every HTTP body and query is validated: unknown fields are errors, named in the 400. */
const validation: Provider = { provide: APP_PIPE, useClass: StrictValidationPipe };

/** The runnable service: the notifications library on the host's Redis, by role. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig & { redisUrl: string }): DynamicModule {
    return {
      module: AppModule,
      imports: [
        BullModule.forRoot({ connection: redisOptionsFromUrl(config.redisUrl) }),
        NotificationsModule.forRoot({
          ...config.notifications,
          isGlobal: true,
          queueName: config.queueName,
          gateway: config.role !== 'worker',
          worker: config.role !== 'gateway',
          workerOptions: { lockDuration: config.jobLockMs, stalledInterval: config.jobLockMs },
        }),
        TerminusModule.forRoot({ logger: false }),
        ...(config.demo && config.role !== 'worker' ? [DemoModule.forRoot(config)] : []),
      ],
      controllers: [
        HealthController,
        MetricsController,
        PublishController,
        ...(config.role === 'worker' ? [] : [InboxController]),
      ],
      providers: [{ provide: APP_CONFIG, useValue: config }, validation],
    };
  }
}
