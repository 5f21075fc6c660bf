import { type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { NotificationsWsAdapter } from '@rtnotify/nestjs';
import { AppModule } from './app.module.js';
import type { AppConfig } from './config/app-config.js';

/** Builds the service (not yet listening): used by `main.ts` and by the end-to-end tests. */
export async function createApp(
  config: AppConfig & { redisUrl: string },
  options: { logger?: false | ('log' | 'warn' | 'error')[] } = {},
): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    logger: options.logger ?? ['log', 'warn', 'error'],
  });
  app.useWebSocketAdapter(new NotificationsWsAdapter(app));
  // The largest valid job (1,000 user ids of 128 characters and a 16 KiB payload) is over Express's
  // default 100 KB.
  app.useBodyParser('json', { limit: '1mb' });
  return app;
}
