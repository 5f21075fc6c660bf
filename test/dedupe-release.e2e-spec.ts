import { InboxService, NotificationsMetrics, type NotifyJobResult } from '@rtnotify/nestjs';
import { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { dedupeKeysOf } from '../libs/notifications/src/storage/dedupe-index-spec-kit.js';
import { waitForJobs } from './kit/jobs.js';
import { startTestApp, type TestApp } from './kit/test-app.js';
import { eventually } from './kit/timing.mjs';

/**
 * The worker releases a job's own dedupe keys (`j:<jobId>:<timestamp>[:i]`) once BullMQ completed
 * the job, and not before: a retried attempt still finds them. Producer keys and idempotent job ids
 * stay. Real Redis, the real service and its BullMQ worker.
 */
describe('dedupe keys of completed jobs (e2e)', () => {
  let t: TestApp;
  let redis: Redis;
  /** The user's dedupe index, as the spec kit reads it. */
  const indexOf = (userId: string) =>
    dedupeKeysOf(redis, t.config.notifications.keyPrefix ?? 'notif', userId);
  /** Resolves once the user's index is exactly `keys` (sorted), else fails after the timeout. */
  const indexBecomes = (userId: string, keys: string[]) =>
    eventually(
      async () => JSON.stringify(await indexOf(userId)) === JSON.stringify(keys),
      10_000,
      `${userId}'s dedupe index to be ${JSON.stringify(keys)}`,
    ).catch(async (error: Error) => {
      throw new Error(`${error.message}; it is ${JSON.stringify(await indexOf(userId))}`);
    });

  beforeAll(async () => {
    t = await startTestApp();
    redis = new Redis(t.config.redisUrl);
  });
  afterAll(async () => {
    redis.disconnect();
    await t.close();
  });

  it("releases a completed job's own keys, for every user and batch item, and keeps the others", async () => {
    const jobs = [
      await t.producer.add('notify', { userIds: ['rel-a', 'rel-b'], type: 'plain' }),
      await t.producer.add('notify-batch', {
        items: [
          { userId: 'rel-a', type: 'batch.one' },
          { userId: 'rel-a', type: 'batch.two', dedupeKey: 'kept-key' },
        ],
      }),
      await t.producer.add('notify', { userId: 'rel-a', type: 'idem' }, { jobId: 'idem-rel-1' }),
    ];
    const results = (await waitForJobs(jobs, t.queueEvents, 15_000)) as NotifyJobResult[];
    expect(results.map((r) => r.stored)).toEqual([2, 2, 1]);

    await indexBecomes('rel-a', ['j:idem-rel-1', 'k:kept-key']);
    await indexBecomes('rel-b', []);
    // The notifications stay.
    const page = await t.app.get(InboxService).list('rel-a', { limit: 10 });
    expect(page.items.map((n) => n.type).sort()).toEqual(
      ['batch.one', 'batch.two', 'idem', 'plain'].sort(),
    );
  });

  it('keeps the key of a job whose attempt failed after its store: the retry stores nothing twice, then it is released', async () => {
    // The first attempt stores, then fails (the counter right after the store throws once).
    const metrics = t.app.get(NotificationsMetrics);
    const failOnce = vi.spyOn(metrics.stored, 'inc').mockImplementationOnce(() => {
      throw new Error('fails after the store');
    });
    try {
      const added = await t.producer.add(
        'notify',
        { userId: 'rel-retry', type: 'retried' },
        { attempts: 2 },
      );

      // Completed first, then read: the job's hash read before the state could be the retry's.
      const done = await eventually(
        async () =>
          (await t.producer.getJobState(added.id!)) === 'completed' &&
          Job.fromId(t.producer, added.id!),
        15_000,
        'the retried job to complete',
      );
      expect(done?.attemptsMade).toBe(2);
      expect(failOnce).toHaveBeenCalled();
      const page = await t.app.get(InboxService).list('rel-retry', { limit: 10 });
      expect(page.items).toHaveLength(1);
      // The retry found its key: it stored nothing and answers with the first attempt's id.
      expect(done?.returnvalue).toMatchObject({ ids: [page.items[0].id], stored: 0 });
      await indexBecomes('rel-retry', []);
    } finally {
      failOnce.mockRestore();
    }
  });
});
