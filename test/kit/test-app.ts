import type { INestApplication } from '@nestjs/common';
import { Queue, QueueEvents } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createApp } from '../../src/bootstrap.js';
import { loadConfig, type AppConfig } from '../../src/config/index.js';
import { redisOptionsFromUrl } from '../../src/redis/redis-url.js';
import { TEST_JWT_SECRET } from './tokens.mjs';

export interface TestApp {
  app: INestApplication;
  config: AppConfig & { redisUrl: string };
  httpUrl: string;
  wsUrl: string;
  /** A plain BullMQ producer on the app's queue, as any other service would use. */
  producer: Queue;
  queueEvents: QueueEvents;
  close(): Promise<void>;
}

/** A unique queue name and key prefix, so suites sharing one Redis never see each other. */
export function isolatedEnv(): Record<string, string> {
  const id = randomBytes(4).toString('hex');
  return { NOTIFY_QUEUE: `notifications-${id}`, KEY_PREFIX: `t${id}` };
}

/** Builds the real service on a free port of 127.0.0.1 against the tests' Redis. */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const redisUrl = env.REDIS_URL ?? inject('redisUrl');
  const config = {
    ...loadConfig({
      NODE_ENV: 'test',
      JWT_SECRET: TEST_JWT_SECRET,
      ...isolatedEnv(),
      ...env,
    }),
    redisUrl,
  };
  const app = await createApp(config, { logger: process.env.TEST_LOGS ? undefined : false });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const connection = redisOptionsFromUrl(redisUrl);
  const producer = new Queue(config.queueName, { connection });
  const queueEvents = new QueueEvents(config.queueName, { connection });
  await queueEvents.waitUntilReady();
  return {
    app,
    config,
    httpUrl: `http://127.0.0.1:${address.port}`,
    wsUrl: `ws://127.0.0.1:${address.port}/ws`,
    producer,
    queueEvents,
    async close() {
      await app.close();
      await producer.close();
      await queueEvents.close();
    },
  };
}
