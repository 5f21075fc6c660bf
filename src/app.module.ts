import { NotificationsModule } from '@app/notifications';
import { BullModule } from '@nestjs/bullmq';
import { Module, type DynamicModule } from '@nestjs/common';
import { APP_CONFIG } from './app.constants.js';
import type { AppConfig } from './config/app-config.js';
import { redisOptionsFromUrl } from './redis/redis-url.js';

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
          queueName: config.queueName,
          gateway: config.role !== 'worker',
          worker: config.role !== 'gateway',
        }),
      ],
      providers: [{ provide: APP_CONFIG, useValue: config }],
    };
  }
}
