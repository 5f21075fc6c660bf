import { type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WsAdapter } from '@nestjs/platform-ws';
import { AppModule } from './app.module.js';
import type { AppConfig } from './config/app-config.js';

/** Builds the service (not yet listening): used by `main.ts` and by the end-to-end tests. */
export async function createApp(
  config: AppConfig & { redisUrl: string },
  options: { logger?: false | ('log' | 'warn' | 'error')[] } = {},
): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule.forRoot(config), {
    logger: options.logger ?? ['log', 'warn', 'error'],
  });
  app.useWebSocketAdapter(new WsAdapter(app));
  return app;
}
