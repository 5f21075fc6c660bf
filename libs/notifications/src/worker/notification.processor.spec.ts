import { Logger } from '@nestjs/common';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { ScheduleStore } from '../storage/schedule.store.js';
import type { NotificationStore, AppendResult } from '../storage/notification.store.js';
import { NotificationProcessor } from './notification.processor.js';
import type { NotificationsMetrics } from '../notifications.metrics.js';
import type { NotificationsRedis } from '../storage/notifications-redis.js';
import { NotificationsSettings } from '../notifications.settings.js';
import type { FallbackService } from '../fallback/fallback.service.js';
import {
  RELEASE_BATCH_MAX,
  RELEASE_DELAY_MS,
  RELEASE_FLUSH_MS,
  RELEASE_QUEUE_MAX,
} from './dedupe-key-releaser.js';

const connectionClosed = () => new Error('Connection is closed.');
const gaveUp = () =>
  Object.assign(new Error('Reached the max retries per request limit (which is 2).'), {
    name: 'MaxRetriesPerRequestError',
  });

describe(NotificationProcessor.name, () => {
  let sut: NotificationProcessor;
  let store: {
    append: ReturnType<typeof vi.fn<NotificationStore['append']>>;
    appendGroups: ReturnType<typeof vi.fn<NotificationStore['appendGroups']>>;
    releaseDedupeKeys: ReturnType<typeof vi.fn<NotificationStore['releaseDedupeKeys']>>;
  };
  let metrics: {
    stored: { inc: any };
    suppressed: { inc: any };
    failed: { inc: any };
    storeRetries: { inc: any };
    dedupeKeysReleased: { inc: any };
  };
  let worker: {
    opts: { lockDuration: number };
    closing: Promise<void> | undefined;
    close: ReturnType<typeof vi.fn<() => Promise<void>>>;
    waitUntilReady: ReturnType<typeof vi.fn<() => Promise<void>>>;
  };
  let job: Job & { moveToDelayed: ReturnType<typeof vi.fn> };
  let schedule: { [K in 'record' | 'claim' | 'release']: ReturnType<typeof vi.fn> };
  const jobWith = (fields: object) =>
    ({ ...fields, moveToDelayed: vi.fn().mockResolvedValue(undefined) }) as unknown as Job & {
      moveToDelayed: ReturnType<typeof vi.fn>;
    };
  const base = { id: 'j1', name: 'notify', timestamp: 1, data: { userId: 'u1', type: 't' } };
  const stored: AppendResult[] = [{ userId: 'u1', id: 'e-1', stored: true, unread: 1 }];

  beforeEach(() => {
    store = {
      append: vi.fn<NotificationStore['append']>().mockResolvedValue(stored),
      // As the store's default: each group by itself (so `append`'s calls show every store).
      appendGroups: vi.fn<NotificationStore['appendGroups']>((groups) =>
        Promise.all(groups.map((group) => store.append(group).catch((error: Error) => error))),
      ),
      releaseDedupeKeys: vi.fn<NotificationStore['releaseDedupeKeys']>().mockResolvedValue(),
    };
    metrics = {
      stored: { inc: vi.fn() },
      suppressed: { inc: vi.fn() },
      failed: { inc: vi.fn() },
      storeRetries: { inc: vi.fn() },
      dedupeKeysReleased: { inc: vi.fn() },
    };
    const everyone = (users: string[]) => Promise.resolve(users.map(() => true));
    schedule = {
      record: vi.fn().mockImplementation(everyone),
      claim: vi.fn().mockImplementation(everyone),
      release: vi.fn().mockResolvedValue(undefined),
    };
    sut = new NotificationProcessor(
      schedule as unknown as ScheduleStore,
      store as unknown as NotificationStore,
      new NotificationsSettings({ jwt: { secret: 's' } }),
      metrics as unknown as NotificationsMetrics,
      {} as NotificationsRedis,
      { schedule: vi.fn().mockResolvedValue(undefined) } as unknown as FallbackService,
    );
    // A lock of 1 s: 400 ms of in-process retries (100 + 200 ms apart, then parked).
    worker = {
      opts: { lockDuration: 1000 },
      closing: undefined,
      close: vi.fn<() => Promise<void>>().mockResolvedValue(),
      waitUntilReady: vi.fn<() => Promise<void>>().mockResolvedValue(),
    };
    (sut as unknown as { _worker: unknown })._worker = worker;
    job = jobWith(base);
  });

  it('retries a store that failed because Redis was unreachable, and finishes the job', async () => {
    store.append.mockRejectedValueOnce(connectionClosed()).mockRejectedValueOnce(gaveUp());

    await expect(sut.process(job, 'token')).resolves.toEqual({
      ids: ['e-1'],
      stored: 1,
      expired: 0,
      suppressed: 0,
    });

    expect(store.append).toHaveBeenCalledTimes(3);
    // The same store each time: a retry is keyed by the same dedupe key.
    expect(store.append.mock.calls[2]).toEqual(store.append.mock.calls[0]);
    expect(metrics.storeRetries.inc).toHaveBeenCalledTimes(2);
    expect(job.moveToDelayed).not.toHaveBeenCalled();
    expect(metrics.failed.inc).not.toHaveBeenCalled();
  });

  it('parks the job in delayed past its retry window, spending no attempt, instead of failing it', async () => {
    store.append.mockRejectedValue(connectionClosed());

    const error: unknown = await sut.process(job, 'token').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DelayedError);
    expect(job.moveToDelayed).toHaveBeenCalledWith(expect.any(Number), 'token');
    expect(metrics.failed.inc).not.toHaveBeenCalled();
  });

  it('parks the job at once when the worker is closing', async () => {
    worker.closing = Promise.resolve();
    store.append.mockRejectedValue(connectionClosed());

    await expect(sut.process(job, 'token')).rejects.toBeInstanceOf(DelayedError);

    expect(store.append).toHaveBeenCalledTimes(1);
    expect(job.moveToDelayed).toHaveBeenCalledTimes(1);
  });

  it('still ends the attempt when moving to delayed fails (the lock is gone)', async () => {
    store.append.mockRejectedValue(connectionClosed());
    job.moveToDelayed.mockRejectedValue(new Error('Missing lock for job j1. moveToDelayed'));

    await expect(sut.process(job, 'token')).rejects.toBeInstanceOf(DelayedError);
  });

  it('fails at once, without retrying, on an error that is not Redis being away', async () => {
    store.append.mockRejectedValue(new Error('ERR Error running script'));

    await expect(sut.process(job, 'token')).rejects.toThrow('ERR Error running script');

    expect(store.append).toHaveBeenCalledTimes(1);
    expect(metrics.failed.inc).toHaveBeenCalledWith({ reason: 'error' });
  });

  it('fails an invalid job at once and for good, storing nothing', async () => {
    const invalid = jobWith({ ...base, data: { userId: 'u1', type: 'NOT VALID' } });

    await expect(sut.process(invalid, 'token')).rejects.toBeInstanceOf(UnrecoverableError);

    expect(store.append).not.toHaveBeenCalled();
    expect(metrics.failed.inc).toHaveBeenCalledWith({ reason: 'invalid' });
  });

  it('keys a job without a dedupe key by its id and enqueue time, an idempotent job by its id', async () => {
    await sut.process(job, 'token');
    await sut.process(jobWith({ ...base, id: 'idem-abc', timestamp: 2 }), 'token');

    expect(store.append.mock.calls[0][0][0].dedupeKey).toBe('j:j1:1');
    expect(store.append.mock.calls[1][0][0].dedupeKey).toBe('j:idem-abc');
  });

  describe('jobs in flight together (group commit)', () => {
    const jobFor = (id: string, userId: string) =>
      jobWith({ ...base, id, data: { userId, type: 't' } });
    const resultFor = (userId: string): AppendResult => ({
      userId,
      id: `e-${userId}`,
      stored: true,
      unread: 1,
    });

    it('stores the jobs that start together in one round trip, each with its own results', async () => {
      store.appendGroups.mockImplementation((groups) =>
        Promise.resolve(groups.map((group) => group.map((r) => resultFor(r.userId)))),
      );

      const results = await Promise.all([
        sut.process(jobFor('a', 'u1'), 'token'),
        sut.process(jobFor('b', 'u2'), 'token'),
      ]);

      expect(store.appendGroups).toHaveBeenCalledTimes(1);
      expect(store.append).not.toHaveBeenCalled();
      const [groups] = store.appendGroups.mock.calls[0];
      expect(groups.map((group) => group.map((r) => [r.userId, r.dedupeKey]))).toEqual([
        [['u1', 'j:a:1']],
        [['u2', 'j:b:1']],
      ]);
      expect(results).toEqual([
        { ids: ['e-u1'], stored: 1, expired: 0, suppressed: 0 },
        { ids: ['e-u2'], stored: 1, expired: 0, suppressed: 0 },
      ]);
    });

    it("fails only the job whose store failed; the other's completes", async () => {
      store.appendGroups.mockImplementation((groups) =>
        Promise.resolve(
          groups.map((group) =>
            group[0].userId === 'bad'
              ? new Error('ERR Error running script')
              : group.map((r) => resultFor(r.userId)),
          ),
        ),
      );

      const [good, bad] = await Promise.allSettled([
        sut.process(jobFor('a', 'u1'), 'token'),
        sut.process(jobFor('b', 'bad'), 'token'),
      ]);

      expect(good).toMatchObject({ status: 'fulfilled', value: { ids: ['e-u1'], stored: 1 } });
      expect(bad).toMatchObject({
        status: 'rejected',
        reason: { message: 'ERR Error running script' },
      });
      expect(metrics.failed.inc).toHaveBeenCalledTimes(1);
    });

    it('retries each job by itself after a round trip Redis could not take', async () => {
      store.appendGroups.mockImplementationOnce(() => Promise.reject(connectionClosed()));

      const results = await Promise.all([
        sut.process(jobFor('a', 'u1'), 'token'),
        sut.process(jobFor('b', 'u2'), 'token'),
      ]);

      expect(results).toEqual([
        expect.objectContaining({ stored: 1 }),
        expect.objectContaining({ stored: 1 }),
      ]);
      expect(metrics.storeRetries.inc).toHaveBeenCalledTimes(2);
      const [firstTrip] = store.appendGroups.mock.calls[0];
      expect(firstTrip.map((group) => group[0].dedupeKey)).toEqual(['j:a:1', 'j:b:1']);
      // The retries (each job's own, 100 ms later: together or not) keep each job's dedupe key.
      const retried = store.append.mock.calls.map(([requests]) => requests[0].dedupeKey);
      expect(retried.sort()).toEqual(['j:a:1', 'j:b:1']);
    });
  });

  describe('scheduled (deliverAt)', () => {
    const scheduledJob = (deliverAt: number, data: object = {}) =>
      jobWith({
        ...base,
        timestamp: Date.now() - 1000,
        data: {
          userIds: ['u1', 'u2'],
          type: 't',
          dedupeKey: 'r1',
          deliverAt: new Date(deliverAt).toISOString(),
          ...data,
        },
      });

    it('moves a job that comes early to delayed until deliverAt, its key recorded first', async () => {
      const due = Date.now() + 60_000;
      const early = scheduledJob(due);

      await expect(sut.process(early, 'token')).rejects.toBeInstanceOf(DelayedError);
      expect(schedule.record).toHaveBeenCalledWith(['u1', 'u2'], 'r1', 'j1');
      expect(early.moveToDelayed).toHaveBeenCalledWith(due, 'token');
      expect(store.append).not.toHaveBeenCalled();
      expect(metrics.failed.inc).not.toHaveBeenCalled();
    });

    it('at its time stores it for the recipients whose key it claimed, then releases them', async () => {
      schedule.claim.mockResolvedValueOnce([false, true]);
      store.append.mockResolvedValueOnce([{ userId: 'u2', id: 'e-1', stored: true, unread: 1 }]);

      await expect(sut.process(scheduledJob(Date.now() - 5), 'token')).resolves.toMatchObject({
        ids: ['e-1'],
        stored: 1,
        expired: 0,
        cancelled: 1,
      });
      expect(schedule.record).not.toHaveBeenCalled();
      expect(store.append.mock.calls[0][0]).toMatchObject([{ userId: 'u2', dedupeKey: 'k:r1' }]);
      expect(schedule.release).toHaveBeenCalledWith(['u2'], 'r1', 'j1');
    });

    it('retries a claim that failed because Redis was unreachable, as it does the store', async () => {
      schedule.claim.mockRejectedValueOnce(connectionClosed());
      store.append.mockResolvedValueOnce([
        { userId: 'u1', id: 'e-1', stored: true, unread: 1 },
        { userId: 'u2', id: 'e-2', stored: true, unread: 1 },
      ]);

      await expect(sut.process(scheduledJob(Date.now() - 5), 'token')).resolves.toMatchObject({
        stored: 2,
        cancelled: 0,
      });
      expect(schedule.claim).toHaveBeenCalledTimes(2);
      expect(metrics.storeRetries.inc).toHaveBeenCalledTimes(1);
    });

    it('does not wait for a job cancelled for everyone already', async () => {
      schedule.record.mockResolvedValueOnce([false, false]);
      schedule.claim.mockResolvedValueOnce([false, false]);
      store.append.mockResolvedValueOnce([]);

      await expect(sut.process(scheduledJob(Date.now() + 60_000), 'token')).resolves.toMatchObject({
        stored: 0,
        cancelled: 2,
      });
      expect(store.append.mock.calls[0][0]).toEqual([]);
    });

    it('delivers one without a dedupe key at its time, claiming nothing', async () => {
      const job = scheduledJob(Date.now() - 5, { dedupeKey: undefined, userIds: ['u1'] });

      await expect(sut.process(job, 'token')).resolves.toMatchObject({ stored: 1, cancelled: 0 });
      expect(schedule.claim).not.toHaveBeenCalled();
    });

    it('fails a notify-batch job with a scheduled item at once, naming it', async () => {
      const batch = jobWith({
        ...base,
        name: 'notify-batch',
        data: {
          items: [
            { userId: 'u1', type: 't' },
            { userId: 'u1', type: 't', deliverAt: new Date(Date.now() + 60_000).toISOString() },
          ],
        },
        timestamp: Date.now(),
      });

      const error = await sut.process(batch, 'token').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnrecoverableError);
      expect((error as Error).message).toMatch(
        /items\.1: deliverAt is not allowed in a notify-batch item/,
      );
      expect(store.append).not.toHaveBeenCalled();
    });
  });
  describe('after a job completes (job-attempt keys released)', () => {
    /** Runs `job` as the worker does: process, then the 'completed' event. */
    async function complete(done: Job): Promise<void> {
      await sut.process(done, 'token');
      sut.onCompleted(done);
    }
    /** The keys the job was stored under that are not a producer's, per user (from the store calls). */
    const appendedJobKeys = () =>
      store.append.mock.calls
        .flatMap(([requests]) => requests)
        .filter((r) => r.dedupeKey.startsWith('j:'))
        .map(({ userId, dedupeKey }) => ({ userId, dedupeKey }));
    const released = () => store.releaseDedupeKeys.mock.calls.flatMap(([entries]) => entries);

    beforeEach(() => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    });
    afterEach(() => {
      vi.useRealTimers();
      vi.restoreAllMocks();
    });

    it('releases the key of a notify job for each of its users, once, RELEASE_DELAY_MS after it completed', async () => {
      await complete(jobWith({ ...base, data: { userIds: ['u1', 'u2', 'u1'], type: 't' } }));

      await vi.advanceTimersByTimeAsync(RELEASE_DELAY_MS - RELEASE_FLUSH_MS);
      expect(store.releaseDedupeKeys).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(RELEASE_FLUSH_MS);

      expect(store.releaseDedupeKeys).toHaveBeenCalledTimes(1);
      expect(released()).toEqual([
        { userId: 'u1', dedupeKey: 'j:j1:1' },
        { userId: 'u2', dedupeKey: 'j:j1:1' },
      ]);
      expect(released()).toEqual(appendedJobKeys());
      expect(metrics.dedupeKeysReleased.inc).toHaveBeenCalledWith(2);
    });

    it('releases the keys of a notify-batch job exactly as it stored them, leaving producer keys', async () => {
      store.append.mockImplementation((requests) => Promise.resolve(requests.map(() => stored[0])));
      const batch = jobWith({
        ...base,
        name: 'notify-batch',
        id: 'b7',
        timestamp: Date.now(),
        data: {
          items: [
            { userId: 'u1', type: 't' },
            { userIds: ['u2', 'u3'], type: 't', dedupeKey: 'p' },
            { userIds: ['u1', 'u4'], type: 't' },
          ],
        },
      });

      await complete(batch);
      await vi.advanceTimersByTimeAsync(RELEASE_DELAY_MS);

      const at = batch.timestamp;
      expect(released()).toEqual([
        { userId: 'u1', dedupeKey: `j:b7:${at}:0` },
        { userId: 'u1', dedupeKey: `j:b7:${at}:2` },
        { userId: 'u4', dedupeKey: `j:b7:${at}:2` },
      ]);
      expect(released()).toEqual(appendedJobKeys());
    });

    it.each([
      ['an idempotent job id (its key lasts as long as the history)', { id: 'idem-abc' }],
      ['a producer dedupeKey', { data: { userIds: ['u1', 'u2'], type: 't', dedupeKey: 'p' } }],
      [
        'a batch whose items all have a producer dedupeKey',
        {
          name: 'notify-batch',
          data: {
            items: [
              { userId: 'u1', type: 't', dedupeKey: 'a' },
              { userId: 'u1', type: 't', dedupeKey: 'b' },
            ],
          },
        },
      ],
      [
        'an idempotent batch',
        { id: 'idem-x', name: 'notify-batch', data: { items: [{ userId: 'u1', type: 't' }] } },
      ],
    ])('releases nothing for %s', async (_, fields) => {
      await complete(jobWith({ ...base, ...fields }));
      await vi.advanceTimersByTimeAsync(RELEASE_DELAY_MS * 2);

      expect(store.append).toHaveBeenCalled();
      expect(store.releaseDedupeKeys).not.toHaveBeenCalled();
    });

    it('releases nothing for a fallback-check job', async () => {
      sut.onCompleted(
        jobWith({ ...base, name: 'fallback-check', data: { userId: 'u1', id: 'e-1' } }),
      );
      await vi.advanceTimersByTimeAsync(RELEASE_DELAY_MS * 2);

      expect(store.releaseDedupeKeys).not.toHaveBeenCalled();
    });

    it('releases nothing when the job fails after its store (it may be retried)', async () => {
      metrics.stored.inc.mockImplementationOnce(() => {
        throw new Error('after the store');
      });

      await expect(sut.process(job, 'token')).rejects.toThrow('after the store');
      await vi.advanceTimersByTimeAsync(RELEASE_DELAY_MS * 2);

      expect(store.append).toHaveBeenCalledTimes(1);
      expect(store.releaseDedupeKeys).not.toHaveBeenCalled();
    });

    it('sends the keys of jobs that complete together in one store call, a burst in calls of RELEASE_BATCH_MAX, after the delay', async () => {
      sut.onCompleted(jobWith({ ...base, id: 'a' }));
      sut.onCompleted(jobWith({ ...base, id: 'b' }));
      await vi.advanceTimersByTimeAsync(RELEASE_DELAY_MS);
      expect(store.releaseDedupeKeys).toHaveBeenCalledTimes(1);
      expect(store.releaseDedupeKeys.mock.calls[0][0]).toHaveLength(2);

      const many = Array.from({ length: RELEASE_BATCH_MAX + 1 }, (_, i) => `u${i}`);
      sut.onCompleted(
        jobWith({
          ...base,
          name: 'notify-batch',
          data: {
            items: [
              { userIds: many.slice(0, 1000), type: 't' },
              { userIds: many.slice(1000), type: 't' },
            ],
          },
        }),
      );
      // A fan-out's keys wait too (its deliveries go first), then go together, oldest first.
      await vi.advanceTimersByTimeAsync(RELEASE_DELAY_MS - RELEASE_FLUSH_MS);
      expect(store.releaseDedupeKeys).toHaveBeenCalledTimes(1);
      await vi.advanceTimersByTimeAsync(RELEASE_FLUSH_MS);
      expect(store.releaseDedupeKeys).toHaveBeenCalledTimes(3);
      expect(store.releaseDedupeKeys.mock.calls[1][0]).toHaveLength(RELEASE_BATCH_MAX);
      expect(store.releaseDedupeKeys.mock.calls[1][0][0]).toEqual({
        userId: 'u0',
        dedupeKey: 'j:j1:1:0',
      });
      expect(store.releaseDedupeKeys.mock.calls[2][0]).toEqual([
        { userId: `u${RELEASE_BATCH_MAX}`, dedupeKey: 'j:j1:1:1' },
      ]);
    });

    it('sends the oldest keys at once while more than RELEASE_QUEUE_MAX wait', async () => {
      /** A completed batch job whose keys are `count` users' (`<tag>-<i>`). */
      const completed = (tag: string, count: number) =>
        sut.onCompleted(
          jobWith({
            ...base,
            id: tag,
            name: 'notify-batch',
            data: {
              items: Array.from({ length: Math.ceil(count / 1000) }, (_, item) => ({
                userIds: Array.from(
                  { length: Math.min(1000, count - item * 1000) },
                  (_, i) => `${tag}-${item * 1000 + i}`,
                ),
                type: 't',
              })),
            },
          }),
        );
      completed('old', RELEASE_QUEUE_MAX);
      expect(store.releaseDedupeKeys).not.toHaveBeenCalled();

      completed('new', 1);
      // One more than the bound: the oldest batch goes now, the rest after the delay.
      expect(store.releaseDedupeKeys).toHaveBeenCalledTimes(1);
      const first = store.releaseDedupeKeys.mock.calls[0][0];
      expect(first).toHaveLength(RELEASE_BATCH_MAX);
      expect(first.every(({ userId }) => userId.startsWith('old-'))).toBe(true);
      expect(first[0].userId).toBe('old-0');

      await vi.advanceTimersByTimeAsync(RELEASE_DELAY_MS);
      expect(released()).toHaveLength(RELEASE_QUEUE_MAX + 1);
      // Each once: the batch sent early is not sent again with the rest.
      expect(new Set(released().map(({ userId }) => userId)).size).toBe(RELEASE_QUEUE_MAX + 1);
      expect(store.releaseDedupeKeys.mock.calls.every(([keys]) => keys.length <= RELEASE_BATCH_MAX)).toBe(true);
      expect(released().at(-1)).toEqual({ userId: 'new-0', dedupeKey: 'j:new:1' });
    });

    it('sends what is queued at shutdown, after the worker closed and before it returns', async () => {
      /** Lets promise callbacks run (setImmediate is not faked here). */
      const settle = () => new Promise((resolve) => setImmediate(resolve));
      let closeWorker: (() => void) | undefined;
      worker.close.mockImplementation(
        () => new Promise<void>((resolve) => (closeWorker = resolve)),
      );
      let release: (() => void) | undefined;
      store.releaseDedupeKeys.mockImplementation(
        () => new Promise<void>((resolve) => (release = resolve)),
      );
      sut.onCompleted(job);

      let done = false;
      const shutdown = sut.beforeApplicationShutdown().then(() => (done = true));
      await settle();
      // Jobs still finishing may queue more: nothing is sent before the worker has closed.
      expect(worker.close).toHaveBeenCalled();
      expect(store.releaseDedupeKeys).not.toHaveBeenCalled();
      closeWorker?.();
      await settle();
      expect(store.releaseDedupeKeys).toHaveBeenCalledWith([{ userId: 'u1', dedupeKey: 'j:j1:1' }]);
      expect(done).toBe(false);
      release?.();
      await shutdown;

      // Nothing is queued after that.
      sut.onCompleted(jobWith({ ...base, id: 'late' }));
      await vi.advanceTimersByTimeAsync(RELEASE_DELAY_MS * 2);
      expect(store.releaseDedupeKeys).toHaveBeenCalledTimes(1);
    });

    it('logs a failed release once at warn, with a count and no keys, until one succeeds', async () => {
      const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      store.releaseDedupeKeys
        .mockRejectedValueOnce(connectionClosed())
        .mockRejectedValueOnce(connectionClosed())
        .mockResolvedValueOnce(undefined)
        .mockRejectedValueOnce(connectionClosed());
      const secret = 'user-secret-id';
      for (let i = 0; i < 4; i++) {
        sut.onCompleted(jobWith({ ...base, id: `job-${i}`, data: { userId: secret, type: 't' } }));
        await vi.advanceTimersByTimeAsync(RELEASE_DELAY_MS);
      }

      expect(store.releaseDedupeKeys).toHaveBeenCalledTimes(4);
      expect(warn).toHaveBeenCalledTimes(2);
      const [message] = warn.mock.calls[0] as [string];
      expect(message).toContain('1 dedupe key(s)');
      expect(message).not.toContain(secret);
      expect(message).not.toContain('job-0');
      expect(metrics.dedupeKeysReleased.inc).toHaveBeenCalledTimes(1);
    });
  });
});
