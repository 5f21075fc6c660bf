import { DelayedError, UnrecoverableError, type Job, type Queue } from 'bullmq';
import type { NotificationsMetrics } from '../notifications.metrics.js';
import { NotificationsSettings } from '../notifications.settings.js';
import type { FallbackClaim, NotificationStore } from '../storage/notification.store.js';
import { fallbackCheckJobId, fallbackJobId } from './fallback-job-ids.js';
import { FallbackService } from './fallback.service.js';

const notification = {
  id: 'e-1',
  type: 't',
  payload: {},
  createdAt: '2030-01-01T00:00:00.000Z',
  read: false,
  seen: false,
  archived: false,
};

describe(FallbackService.name, () => {
  let store: { claimFallback: ReturnType<typeof vi.fn>; settleFallback: ReturnType<typeof vi.fn> };
  let queue: { addBulk: ReturnType<typeof vi.fn>; opts: object };
  let hostAdd: ReturnType<typeof vi.fn>;
  let sut: FallbackService;
  const checkJob = (data: unknown) =>
    ({ data, moveToDelayed: vi.fn().mockResolvedValue(undefined) }) as unknown as Job & {
      moveToDelayed: ReturnType<typeof vi.fn>;
    };

  function create(fallback?: { queue: string }) {
    store = {
      claimFallback: vi.fn(),
      settleFallback: vi.fn().mockResolvedValue(undefined),
    };
    queue = { addBulk: vi.fn().mockResolvedValue([]), opts: {} };
    hostAdd = vi.fn().mockResolvedValue({ id: 'x' });
    sut = new FallbackService(
      store as unknown as NotificationStore,
      new NotificationsSettings({ fallback }),
      { fallbacks: { inc: vi.fn() } } as unknown as NotificationsMetrics,
      queue as unknown as Queue,
    );
    (sut as unknown as { hostQueue: unknown }).hostQueue = { add: hostAdd, close: vi.fn() };
  }
  const claims = (claim: FallbackClaim) => store.claimFallback.mockResolvedValue(claim);

  beforeEach(() => create({ queue: 'emails' }));

  it('schedules one check per notification whose fallback may be due, under its derived id', async () => {
    const now = Date.now();
    await sut.schedule([
      { userId: 'u1', id: 'e-1', stored: true, unread: 1, fallbackDueAt: now + 5000 },
      { userId: 'u2', id: 'e-1', stored: true, unread: 1 },
    ]);

    const [[jobs]] = queue.addBulk.mock.calls as [[{ name: string; opts: any; data: any }[]]];
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({
      name: 'fallback-check',
      data: { userId: 'u1', id: 'e-1' },
      opts: { jobId: fallbackCheckJobId('u1', 'e-1') },
    });
    expect(jobs[0].opts.delay).toBeGreaterThan(4000);
    expect(fallbackCheckJobId('u1', 'e-1')).not.toBe(fallbackCheckJobId('u2', 'e-1'));
  });

  it('adds the fallback job under its derived id, then settles', async () => {
    claims({ kind: 'send', notification });

    await expect(sut.check(checkJob({ userId: 'u1', id: 'e-1' }), 'tok')).resolves.toEqual({
      fallback: 'added',
    });

    expect(hostAdd).toHaveBeenCalledWith(
      'fallback',
      { userId: 'u1', notification },
      expect.objectContaining({ jobId: fallbackJobId('u1', 'e-1') }),
    );
    expect(store.settleFallback).toHaveBeenCalledWith('u1', 'e-1');
    expect(hostAdd.mock.invocationCallOrder[0]).toBeLessThan(
      store.settleFallback.mock.invocationCallOrder[0],
    );
  });

  it('does not settle when the add fails (the retried check adds it)', async () => {
    claims({ kind: 'send', notification });
    hostAdd.mockRejectedValue(new Error('Connection is closed.'));

    await expect(sut.check(checkJob({ userId: 'u1', id: 'e-1' }), 'tok')).rejects.toThrow();
    expect(store.settleFallback).not.toHaveBeenCalled();
  });

  it('adds nothing when the store says none', async () => {
    claims({ kind: 'none' });

    await expect(sut.check(checkJob({ userId: 'u1', id: 'e-1' }), 'tok')).resolves.toEqual({
      fallback: 'none',
    });
    expect(hostAdd).not.toHaveBeenCalled();
  });

  it('moves a check that came early back to delayed until it is due', async () => {
    claims({ kind: 'wait', dueAt: 12345 });
    const job = checkJob({ userId: 'u1', id: 'e-1' });

    await expect(sut.check(job, 'tok')).rejects.toBeInstanceOf(DelayedError);
    expect(job.moveToDelayed).toHaveBeenCalledWith(12345, 'tok');
  });

  it.each([
    ['no data', undefined],
    ['an extra field', { userId: 'u1', id: 'e-1', x: 1 }],
    ['a bad id', { userId: 'u1', id: 'nope' }],
    ['a bad user id', { userId: '', id: 'e-1' }],
  ])('fails a check with %s at once', async (_, data) => {
    await expect(sut.check(checkJob(data), 'tok')).rejects.toBeInstanceOf(UnrecoverableError);
    expect(store.claimFallback).not.toHaveBeenCalled();
  });

  it('does nothing without the fallback option', async () => {
    create(undefined);

    await expect(sut.check(checkJob({ userId: 'u1', id: 'e-1' }), 'tok')).resolves.toEqual({
      fallback: 'off',
    });
    expect(store.claimFallback).not.toHaveBeenCalled();
  });
});
