import { BullModule } from '@nestjs/bullmq';
import { Logger, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Queue, QueueEvents } from 'bullmq';
import { inject } from 'vitest';
import { FallbackMailModule } from '../src/fallback/fallback-mail.module.js';
import { redisOptionsFromUrl } from '../src/redis/redis-url.js';
import { failedReasonOf } from './kit/jobs.js';
import { isolatedEnv } from './kit/test-app.js';

/** The service's fallback worker: a plain BullMQ worker on the host's queue, real Redis. */
describe('the fallback mail worker (e2e)', () => {
  const connection = () => redisOptionsFromUrl(inject('redisUrl'));
  let app: INestApplication;
  let queue: Queue;
  let events: QueueEvents;
  let logged: string[];

  beforeAll(async () => {
    const name = `fallback-${isolatedEnv().KEY_PREFIX}`;
    logged = [];
    vi.spyOn(Logger.prototype, 'log').mockImplementation(function (this: Logger, message) {
      logged.push(String(message));
    });
    const moduleRef = await Test.createTestingModule({
      imports: [BullModule.forRoot({ connection: connection() }), FallbackMailModule.forRoot(name)],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    queue = new Queue(name, { connection: connection() });
    events = new QueueEvents(name, { connection: connection() });
    await events.waitUntilReady();
  });

  afterAll(async () => {
    await app?.close();
    await queue?.close();
    await events?.close();
    vi.restoreAllMocks();
  });

  it('sends one "email" per fallback job, logging the user and the type, not the payload', async () => {
    const job = await queue.add('fallback', {
      userId: 'ada',
      notification: {
        id: 'e1-3',
        type: 'invoice.due',
        category: 'billing',
        payload: { title: 'INV-7 for Ada Lovelace' },
        createdAt: new Date().toISOString(),
        read: false,
        seen: false,
        archived: false,
      },
    });

    expect(await job.waitUntilFinished(events, 10_000)).toEqual({ sent: true });
    expect(logged.filter((line) => line.startsWith('fallback for'))).toEqual([
      'fallback for ada: invoice.due',
    ]);
    expect(logged.join('\n')).not.toMatch(/Lovelace|INV-7/);
  });

  it('fails a job that is not a fallback job at once, without retries', async () => {
    const job = await queue.add('fallback', { userId: 'ada' }, { attempts: 3 });

    expect(await failedReasonOf(queue, job, 10_000)).toMatch(/not a fallback job/);
    expect((await queue.getJob(job.id!))?.attemptsMade).toBe(1);
  });
});
