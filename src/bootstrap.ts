import { type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { NotificationsWsAdapter } from '@rtnotify/nestjs';
import { AppModule } from './app.module.js';
import { hardenHttpServer } from './http/http-server.js';
import { useJsonBodies } from './http/json-body.js';
import type { AppConfig } from './config/app-config.js';

/** Builds the service (not yet listening): used by `main.ts` and by the end-to-end tests. */
export async function createApp(
  config: AppConfig & { redisUrl?: string },
  options: { logger?: false | ('log' | 'warn' | 'error')[] } = {},
): Promise<INestApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config),
    new FastifyAdapter(),
    { logger: options.logger ?? ['log', 'warn', 'error'], bodyParser: false },
  );
  app.useWebSocketAdapter(new NotificationsWsAdapter(app));
  // JSON only, bounded in size per route and in depth, checked before parsing.
  useJsonBodies(app);
  hardenHttpServer(app, config.http);
  return app;
}
