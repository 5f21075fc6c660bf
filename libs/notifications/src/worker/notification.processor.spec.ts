import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
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
    sut = new NotificationProcessor(
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
});
