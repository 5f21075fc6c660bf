import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { ScheduleStore } from '../storage/schedule.store.js';
import type { NotificationStore, AppendResult } from '../storage/notification.store.js';
import { NotificationProcessor } from './notification.processor.js';
import type { NotificationsMetrics } from '../notifications.metrics.js';
import type { NotificationsRedis } from '../storage/notifications-redis.js';
import { NotificationsSettings } from '../notifications.settings.js';
import type { FallbackService } from '../fallback/fallback.service.js';

const connectionClosed = () => new Error('Connection is closed.');
const gaveUp = () =>
  Object.assign(new Error('Reached the max retries per request limit (which is 2).'), {
    name: 'MaxRetriesPerRequestError',
  });

describe(NotificationProcessor.name, () => {
  let sut: NotificationProcessor;
  let store: { append: ReturnType<typeof vi.fn> };
  let metrics: {
    stored: { inc: any };
    suppressed: { inc: any };
    failed: { inc: any };
    storeRetries: { inc: any };
  };
  let worker: { opts: { lockDuration: number }; closing: Promise<void> | undefined };
  let job: Job & { moveToDelayed: ReturnType<typeof vi.fn> };
  let schedule: { [K in 'record' | 'claim' | 'release']: ReturnType<typeof vi.fn> };
  const jobWith = (fields: object) =>
    ({ ...fields, moveToDelayed: vi.fn().mockResolvedValue(undefined) }) as unknown as Job & {
      moveToDelayed: ReturnType<typeof vi.fn>;
    };
  const base = { id: 'j1', name: 'notify', timestamp: 1, data: { userId: 'u1', type: 't' } };
  const stored: AppendResult[] = [{ userId: 'u1', id: 'e-1', stored: true, unread: 1 }];

  beforeEach(() => {
    store = { append: vi.fn().mockResolvedValue(stored) };
    metrics = {
      stored: { inc: vi.fn() },
      suppressed: { inc: vi.fn() },
      failed: { inc: vi.fn() },
      storeRetries: { inc: vi.fn() },
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
    worker = { opts: { lockDuration: 1000 }, closing: undefined };
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
});
