import type { JobsOptions } from 'bullmq';
import { IdempotencyKeyReusedError } from '../errors/idempotency-key-reused.error.js';
import { InvalidNotificationError } from '../errors/invalid-notification.error.js';
import { NotificationsUnavailableError } from '../errors/notifications-unavailable.error.js';
import { NotificationService } from './notification.service.js';
import { DEFAULT_JOB_OPTIONS } from '../notifications.defaults.js';
import { NotificationsSettings } from '../notifications.settings.js';
import type { NotificationsRedis } from '../storage/notifications-redis.js';
import type { ScheduleStore } from '../storage/schedule.store.js';
import { ScheduledNotificationFiredError } from '../errors/scheduled-notification-fired.error.js';
import { ScheduledNotificationNotFoundError } from '../errors/scheduled-notification-not-found.error.js';

type Mocked<T> = { [K in keyof T]: T[K] & ReturnType<typeof vi.fn> };

/** A schedule store that records everything and cancels nothing unless told. */
const fakeSchedule = () =>
  ({
    record: vi.fn().mockImplementation((users: string[]) => Promise.resolve(users.map(() => true))),
    unrecord: vi.fn().mockResolvedValue(undefined),
    claim: vi.fn(),
    release: vi.fn(),
    cancel: vi.fn().mockResolvedValue({ outcome: 'none' }),
    forgetCancelled: vi.fn().mockResolvedValue(undefined),
  }) as unknown as Mocked<ScheduleStore>;

/** The library's connection, as the service sees it: up, unless a test says otherwise. */
const available = () =>
  ({ whenAvailable: vi.fn().mockResolvedValue(undefined) }) as unknown as NotificationsRedis & {
    whenAvailable: ReturnType<typeof vi.fn>;
  };

describe(NotificationService.name, () => {
  let sut: NotificationService;
  let queue: { add: ReturnType<typeof vi.fn> };
  let settings: NotificationsSettings;
  let redis: ReturnType<typeof available>;
  let schedule: ReturnType<typeof fakeSchedule>;

  beforeEach(() => {
    queue = { add: vi.fn().mockResolvedValue({ id: '42' }) };
    settings = new NotificationsSettings({ enqueueTimeoutMs: 50 });
    redis = available();
    schedule = fakeSchedule();
    sut = new NotificationService(queue as any, settings, redis, schedule);
  });

  /** The InvalidNotificationError a call rejects with. */
  const invalidOf = async (call: Promise<unknown>): Promise<InvalidNotificationError> => {
    const error: unknown = await call.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(error).toBeInstanceOf(InvalidNotificationError);
    return error as InvalidNotificationError;
  };

  describe('notify', () => {
    it('enqueues one notify job and resolves with its id', async () => {
      const result = await sut.notify('u1', { type: 'comment.created', payload: { postId: 7 } });

      expect(result).toEqual({ jobId: '42' });
      expect(queue.add).toHaveBeenCalledTimes(1);
      expect(queue.add).toHaveBeenCalledWith(
        'notify',
        { userId: 'u1', type: 'comment.created', payload: { postId: 7 } },
        { ...settings.jobOptions, jobId: expect.any(String) },
      );
    });

    it('uses the default job options', async () => {
      await sut.notify('u1', { type: 't' });

      expect(queue.add.mock.calls[0][2]).toEqual({
        ...DEFAULT_JOB_OPTIONS,
        jobId: expect.any(String),
      });
    });

    it('gives every job an id of its own, so that a re-sent add adds nothing', async () => {
      await sut.notify('u1', { type: 't' });
      await sut.notify('u1', { type: 't' });

      const [first, second] = queue.add.mock.calls.map(([, , opts]) => (opts as JobsOptions).jobId);
      expect(first).toMatch(/^[0-9a-f-]{36}$/);
      expect(second).toMatch(/^[0-9a-f-]{36}$/);
      expect(first).not.toBe(second);
    });

    it('sends the dedupe key', async () => {
      await sut.notify('u1', { type: 't', dedupeKey: 'k1' });

      expect(queue.add.mock.calls[0][1]).toEqual({ userId: 'u1', type: 't', dedupeKey: 'k1' });
    });

    it('does not send undefined optional fields', async () => {
      await sut.notify('u1', { type: 't', payload: undefined, dedupeKey: undefined });

      const data = queue.add.mock.calls[0][1] as object;
      expect(data).toEqual({ userId: 'u1', type: 't' });
      expect(Object.keys(data).sort()).toEqual(['type', 'userId']);
    });

    it('lets the userId argument win over one smuggled into the input', async () => {
      await sut.notify('u1', { type: 't', userId: 'someone-else' } as any);

      expect(queue.add.mock.calls[0][1]).toMatchObject({ userId: 'u1' });
    });

    it('resolves an empty job id when the queue gives none', async () => {
      queue.add.mockResolvedValue({ id: undefined });

      await expect(sut.notify('u1', { type: 't' })).resolves.toEqual({ jobId: '' });
    });

    it('rejects an invalid type without enqueueing', async () => {
      const error = await invalidOf(sut.notify('u1', { type: 'Not Valid' }));

      expect(error.fields).toContain('type');
      expect(error.message).toContain('type');
      expect(queue.add).not.toHaveBeenCalled();
    });

    it('sends category, collapseKey and expiresAt, a Date as ISO 8601', async () => {
      const expiresAt = new Date(Date.now() + 60_000);

      await sut.notify('u1', { type: 't', category: 'billing', collapseKey: 'k', expiresAt });

      expect(queue.add.mock.calls[0][1]).toEqual({
        userId: 'u1',
        type: 't',
        category: 'billing',
        collapseKey: 'k',
        expiresAt: expiresAt.toISOString(),
      });
    });

    it.each([
      ['an expiresAt in the past', { expiresAt: new Date(Date.now() - 1000) }, 'expiresAt'],
      ['an invalid Date', { expiresAt: new Date(Number.NaN) }, 'expiresAt'],
      ['an expiresAt without a zone', { expiresAt: '2099-01-01T00:00:00' }, 'expiresAt'],
      ['a bad category', { category: 'Billing!' }, 'category'],
      ['an overlong collapseKey', { collapseKey: 'k'.repeat(129) }, 'collapseKey'],
    ])('rejects %s without enqueueing, naming the field', async (_, extra, field) => {
      const error = await invalidOf(sut.notify('u1', { type: 't', ...extra }));

      expect(error.fields).toEqual([field]);
      expect(error.message).toContain(field);
      expect(queue.add).not.toHaveBeenCalled();
    });

    it('rejects a payload over 16 KiB without enqueueing', async () => {
      const payload = { d: 'x'.repeat(16 * 1024) };

      const error = await invalidOf(sut.notify('u1', { type: 't', payload }));

      expect(error.fields).toEqual(['payload']);
      expect(queue.add).not.toHaveBeenCalled();
    });

    it('rejects an empty userId', async () => {
      const error = await invalidOf(sut.notify('', { type: 't' }));

      expect(error.fields).toContain('userId');
      expect(queue.add).not.toHaveBeenCalled();
    });

    it('names every offending field', async () => {
      const error = await invalidOf(sut.notify('u1', { type: '', payload: [] as any }));

      expect(error.fields.sort()).toEqual(['payload', 'type']);
    });

    it('propagates a queue failure (Redis down)', async () => {
      const failure = new Error('connect ECONNREFUSED 127.0.0.1:6379');
      queue.add.mockRejectedValue(failure);

      await expect(sut.notify('u1', { type: 't' })).rejects.toBe(failure);
    });

    it('throws NotificationsUnavailableError at once while Redis is unreachable', async () => {
      redis.whenAvailable.mockRejectedValue(new NotificationsUnavailableError());

      const error: unknown = await sut.notify('u1', { type: 't' }).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(NotificationsUnavailableError);
      expect((error as NotificationsUnavailableError).mayBeStored).toBe(false);
      expect(queue.add).not.toHaveBeenCalled();
    });

    it('throws NotificationsUnavailableError (may be stored) when the enqueue hangs', async () => {
      queue.add.mockReturnValue(new Promise(() => undefined));

      const error: unknown = await sut.notify('u1', { type: 't' }).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(NotificationsUnavailableError);
      expect((error as NotificationsUnavailableError).mayBeStored).toBe(true);
    });
  });

  describe('notifyMany', () => {
    it('enqueues one job with userIds', async () => {
      const result = await sut.notifyMany(['u1', 'u2'], { type: 't', payload: { a: 1 } });

      expect(result).toEqual({ jobId: '42' });
      expect(queue.add).toHaveBeenCalledWith(
        'notify',
        { userIds: ['u1', 'u2'], type: 't', payload: { a: 1 } },
        { ...settings.jobOptions, jobId: expect.any(String) },
      );
    });

    it('rejects 1001 userIds without enqueueing', async () => {
      const userIds = Array.from({ length: 1001 }, (_, i) => `u${i}`);

      const error = await invalidOf(sut.notifyMany(userIds, { type: 't' }));

      expect(error.fields).toEqual(['userIds']);
      expect(queue.add).not.toHaveBeenCalled();
    });

    it('rejects no userIds without enqueueing', async () => {
      const error = await invalidOf(sut.notifyMany([], { type: 't' }));

      expect(error.fields).toEqual(['userIds']);
      expect(queue.add).not.toHaveBeenCalled();
    });
  });

  describe('enqueue', () => {
    it('rejects a job with both userId and userIds', async () => {
      const error = await invalidOf(sut.enqueue({ userId: 'u1', userIds: ['u2'], type: 't' }));

      expect(error.fields).toEqual(['userId']);
      expect(queue.add).not.toHaveBeenCalled();
    });

    it('uses configured job options', async () => {
      settings = new NotificationsSettings({ jobOptions: { attempts: 1 } });
      sut = new NotificationService(queue as any, settings, redis, schedule);

      await sut.enqueue({ userId: 'u1', type: 't' });

      expect(queue.add.mock.calls[0][2]).toMatchObject({
        attempts: 1,
        backoff: expect.any(Object),
      });
    });
  });
});

describe('NotificationService.enqueueIdempotent', () => {
  let sut: NotificationService;
  let queue: { add: ReturnType<typeof vi.fn>; getJob: ReturnType<typeof vi.fn> };
  let redis: ReturnType<typeof available>;
  const jobIdOf = (call: number) => (queue.add.mock.calls[call][2] as JobsOptions).jobId;

  beforeEach(() => {
    // As BullMQ does: an add with the id of a kept job adds nothing; the first data stays.
    const kept = new Map<string, { id: string; data: object }>();
    queue = {
      add: vi.fn().mockImplementation((_name: string, data: object, opts: JobsOptions) => {
        const id = opts.jobId!;
        if (!kept.has(id)) kept.set(id, { id, data: JSON.parse(JSON.stringify(data)) as object });
        return Promise.resolve({ id });
      }),
      getJob: vi.fn().mockImplementation((id: string) => Promise.resolve(kept.get(id))),
    };
    redis = available();
    sut = new NotificationService(
      queue as any,
      new NotificationsSettings({ jwt: { secret: 's' } }),
      redis,
      fakeSchedule(),
    );
  });

  it('derives the job id from the key and scope: a repeat names the same job', async () => {
    const data = { userId: 'u1', type: 't' };
    const first = await sut.enqueueIdempotent(data, { key: 'k-1', scope: 'api-key-a' });
    const again = await sut.enqueueIdempotent(data, { key: 'k-1', scope: 'api-key-a' });

    expect(first.jobId).toMatch(/^idem-[A-Za-z0-9_-]{43}$/);
    expect(again).toEqual(first);
    expect(jobIdOf(1)).toBe(jobIdOf(0));
    expect(queue.add.mock.calls[0][0]).toBe('notify');
  });

  it('refuses a repeat of the key with other data (IdempotencyKeyReusedError), not a reordered one', async () => {
    const first = await sut.enqueueIdempotent(
      { userId: 'u1', type: 't', payload: { a: 1, b: { c: 2, d: 3 } } },
      { key: 'k-1' },
    );
    const reordered = await sut.enqueueIdempotent(
      { payload: { b: { d: 3, c: 2 }, a: 1 }, type: 't', userId: 'u1' },
      { key: 'k-1' },
    );
    const other = await sut
      .enqueueIdempotent({ userId: 'u1', type: 't', payload: { a: 2 } }, { key: 'k-1' })
      .catch((error: unknown) => error);

    expect(reordered).toEqual(first);
    expect(other).toBeInstanceOf(IdempotencyKeyReusedError);
    expect((other as IdempotencyKeyReusedError).jobId).toBe(first.jobId);
    // A dedupeKey alone keeps its meaning: the first data wins, the repeat is not an error.
    const byDedupe = await sut.enqueueIdempotent({ userId: 'u1', type: 't', dedupeKey: 'd' });
    const dedupeAgain = await sut.enqueueIdempotent({ userId: 'u1', type: 'x', dedupeKey: 'd' });
    expect(dedupeAgain).toEqual(byDedupe);
  });

  it('keeps the keys of two scopes apart, and never keeps the scope itself', async () => {
    const data = { userId: 'u1', type: 't' };
    const a = await sut.enqueueIdempotent(data, { key: 'k-1', scope: 'secret-api-key-a' });
    const b = await sut.enqueueIdempotent(data, { key: 'k-1', scope: 'secret-api-key-b' });
    const other = await sut.enqueueIdempotent(data, { key: 'k-2', scope: 'secret-api-key-a' });

    expect(new Set([a.jobId, b.jobId, other.jobId]).size).toBe(3);
    expect(JSON.stringify(queue.add.mock.calls)).not.toContain('secret-api-key');
  });

  it('accepts the quoted form of the IETF draft as the same key', async () => {
    const data = { userId: 'u1', type: 't' };
    const plain = await sut.enqueueIdempotent(data, { key: 'abc-123' });
    const quoted = await sut.enqueueIdempotent(data, { key: '"abc-123"' });

    expect(quoted).toEqual(plain);
  });

  it('without a key, derives the job id from the dedupeKey and the recipients', async () => {
    const first = await sut.enqueueIdempotent({ userIds: ['b', 'a'], type: 't', dedupeKey: 'd' });
    const again = await sut.enqueueIdempotent({ userIds: ['a', 'b'], type: 'x', dedupeKey: 'd' });
    const otherUsers = await sut.enqueueIdempotent({ userId: 'a', type: 't', dedupeKey: 'd' });
    const otherScope = await sut.enqueueIdempotent(
      { userIds: ['a', 'b'], type: 't', dedupeKey: 'd' },
      { scope: 's2' },
    );

    expect(again).toEqual(first);
    expect(otherUsers.jobId).not.toBe(first.jobId);
    expect(otherScope.jobId).not.toBe(first.jobId);
  });

  it('without either key, enqueues as enqueue does (a random job id)', async () => {
    const first = await sut.enqueueIdempotent({ userId: 'u1', type: 't' }, { scope: 's' });
    const again = await sut.enqueueIdempotent({ userId: 'u1', type: 't' }, { scope: 's' });

    expect(first.jobId).toMatch(/^[0-9a-f-]{36}$/);
    expect(again.jobId).not.toBe(first.jobId);
  });

  it.each([
    ['empty', ''],
    ['too long', 'k'.repeat(256)],
    ['a space', 'two words'],
    ['a comma (a repeated header)', 'k1, k2'],
    ['a control character', 'k\u0000'],
    ['non-ASCII', 'clé'],
    ['only quotes', '""'],
  ])('rejects a key with %s, naming it, and enqueues nothing', async (_what, key) => {
    const error: unknown = await sut
      .enqueueIdempotent({ userId: 'u1', type: 't' }, { key })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidNotificationError);
    expect((error as InvalidNotificationError).fields).toEqual(['Idempotency-Key']);
    expect(queue.add).not.toHaveBeenCalled();
  });

  it('accepts a key of 255 characters', async () => {
    await expect(
      sut.enqueueIdempotent({ userId: 'u1', type: 't' }, { key: 'k'.repeat(255) }),
    ).resolves.toEqual({ jobId: expect.stringMatching(/^idem-/) });
  });

  it('names a bad key and bad data together', async () => {
    const error: unknown = await sut
      .enqueueIdempotent({ userId: 'u1', type: 'NOT VALID' }, { key: 'a b' })
      .catch((e: unknown) => e);

    expect((error as InvalidNotificationError).fields).toEqual(['Idempotency-Key', 'type']);
    expect(queue.add).not.toHaveBeenCalled();
  });

  it('is refused at once while Redis is unreachable', async () => {
    redis.whenAvailable.mockRejectedValue(new NotificationsUnavailableError());

    const error: unknown = await sut
      .enqueueIdempotent({ userId: 'u1', type: 't' }, { key: 'k' })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NotificationsUnavailableError);
    expect(queue.add).not.toHaveBeenCalled();
  });
});

describe('NotificationService coalescing', () => {
  it('sends concurrent calls as one notify-batch job, resolving each, and splits by recipients', async () => {
    const queue = {
      add: vi.fn().mockImplementation((name: string) => Promise.resolve({ id: name })),
    };
    const sut = new NotificationService(
      queue as any,
      new NotificationsSettings({}),
      available(),
      fakeSchedule(),
    );
    const many = Array.from({ length: 11 }, (_, i) => `u${i}`);

    const results = await Promise.all([
      sut.notify('a', { type: 't' }),
      sut.notify('b', { type: 't', payload: { x: 1 } }),
      ...Array.from({ length: 10 }, () => sut.notifyMany(many.slice(0, 1000), { type: 'big' })),
    ]);

    expect(results.every((r) => r.jobId === 'notify-batch')).toBe(true);
    expect(queue.add).toHaveBeenCalledTimes(1);
    const [, data] = queue.add.mock.calls[0] as [string, { items: unknown[] }];
    expect(data.items).toHaveLength(12);
    expect(data.items[1]).toEqual({ type: 't', payload: { x: 1 }, userId: 'b' });
  });

  it('keeps a batch under 10,000 recipients', async () => {
    const queue = { add: vi.fn().mockResolvedValue({ id: '1' }) };
    const sut = new NotificationService(
      queue as any,
      new NotificationsSettings({}),
      available(),
      fakeSchedule(),
    );
    const thousand = Array.from({ length: 1000 }, (_, i) => `u${i}`);

    await Promise.all(Array.from({ length: 25 }, () => sut.notifyMany(thousand, { type: 'big' })));

    const sizes = queue.add.mock.calls.map(
      ([, data]) => (data as { items: unknown[] }).items.length,
    );
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(25);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(10);
  });
});

describe('NotificationService scheduling', () => {
  const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000);
  let queue: {
    add: ReturnType<typeof vi.fn>;
    getJob: ReturnType<typeof vi.fn>;
    remove: ReturnType<typeof vi.fn>;
  };
  let schedule: ReturnType<typeof fakeSchedule>;
  let sut: NotificationService;

  beforeEach(() => {
    queue = {
      add: vi
        .fn()
        .mockImplementation((_n: string, _d: object, o: JobsOptions) =>
          Promise.resolve({ id: o.jobId }),
        ),
      getJob: vi.fn().mockResolvedValue(undefined),
      remove: vi.fn().mockResolvedValue(1),
    };
    schedule = fakeSchedule();
    sut = new NotificationService(
      queue as any,
      new NotificationsSettings({ enqueueTimeoutMs: 200 }),
      available(),
      schedule,
    );
  });

  it('adds a notify job of its own, delayed until deliverAt (a Date), its key recorded first', async () => {
    const at = inMinutes(10);

    const [scheduled] = await Promise.all([
      sut.notify('u1', { type: 't', dedupeKey: 'r1', deliverAt: at }),
      sut.notify('u2', { type: 'plain' }),
    ]);

    expect(queue.add).toHaveBeenCalledTimes(2);
    const [name, data, options] = queue.add.mock.calls.find(
      ([, d]) => (d as { deliverAt?: string }).deliverAt !== undefined,
    ) as [string, object, JobsOptions];
    expect(name).toBe('notify');
    expect(data).toEqual({ type: 't', dedupeKey: 'r1', deliverAt: at.toISOString(), userId: 'u1' });
    expect(options.delay).toBeGreaterThan(9 * 60_000);
    expect(options.delay).toBeLessThanOrEqual(10 * 60_000);
    expect(schedule.record).toHaveBeenCalledWith(['u1'], 'r1', options.jobId);
    expect(scheduled.jobId).toBe(options.jobId);
    expect(schedule.record.mock.invocationCallOrder[0]).toBeLessThan(
      queue.add.mock.invocationCallOrder[0],
    );
  });

  it('records nothing without a dedupe key (nothing could cancel it)', async () => {
    await sut.notifyMany(['a', 'b'], { type: 't', deliverAt: inMinutes(1) });

    expect(schedule.record).not.toHaveBeenCalled();
    expect(queue.add.mock.calls[0][2]).toMatchObject({ delay: expect.any(Number) });
  });

  it('undoes the record when the add surely failed', async () => {
    queue.add.mockRejectedValueOnce(new Error('boom'));

    await expect(
      sut.notify('u1', { type: 't', dedupeKey: 'r1', deliverAt: inMinutes(1) }),
    ).rejects.toThrow('boom');
    const jobId = schedule.record.mock.calls[0][2] as string;
    expect(schedule.unrecord).toHaveBeenCalledWith(['u1'], 'r1', jobId);
  });

  it.each([
    ['in the past', new Date(Date.now() - 1000), /deliverAt must be in the future/],
    ['31 days ahead', inMinutes(31 * 24 * 60), /deliverAt must be at most 30 days ahead/],
    ['an invalid Date', new Date(Number.NaN), /deliverAt must be an ISO 8601/],
    ['without a zone', '2099-01-01T00:00:00', /deliverAt must be an ISO 8601/],
  ])('rejects a deliverAt %s, enqueuing nothing', async (_, deliverAt, message) => {
    await expect(sut.notify('u1', { type: 't', deliverAt })).rejects.toThrow(message);
    expect(queue.add).not.toHaveBeenCalled();
    expect(schedule.record).not.toHaveBeenCalled();
  });

  describe('cancel', () => {
    it('answers cancelled and removes a delayed job of that user alone', async () => {
      schedule.cancel.mockResolvedValueOnce({ outcome: 'cancelled', jobId: 'j1' });
      queue.getJob.mockResolvedValueOnce({
        data: { userId: 'u1', type: 't' },
        isDelayed: () => Promise.resolve(true),
      });

      await expect(sut.cancel('u1', 'r1')).resolves.toEqual({ cancelled: true });
      expect(queue.remove).toHaveBeenCalledWith('j1');
      expect(schedule.forgetCancelled).toHaveBeenCalledWith('u1', 'r1', 'j1');
    });

    it('keeps the job (and the marker) when it delivers to others too or is not delayed', async () => {
      schedule.cancel.mockResolvedValue({ outcome: 'cancelled', jobId: 'j1' });
      queue.getJob.mockResolvedValueOnce({
        data: { userIds: ['u1', 'u2'], type: 't' },
        isDelayed: () => Promise.resolve(true),
      });
      queue.getJob.mockResolvedValueOnce({
        data: { userId: 'u1', type: 't' },
        isDelayed: () => Promise.resolve(false),
      });

      await expect(sut.cancel('u1', 'r1')).resolves.toEqual({ cancelled: true });
      await expect(sut.cancel('u1', 'r1')).resolves.toEqual({ cancelled: true });
      expect(queue.remove).not.toHaveBeenCalled();
      expect(schedule.forgetCancelled).not.toHaveBeenCalled();
    });

    it('keeps the marker when the job could not be removed (a worker holds it)', async () => {
      schedule.cancel.mockResolvedValueOnce({ outcome: 'cancelled', jobId: 'j1' });
      queue.getJob.mockResolvedValueOnce({
        data: { userId: 'u1', type: 't' },
        isDelayed: () => Promise.resolve(true),
      });
      queue.remove.mockResolvedValueOnce(0);

      await expect(sut.cancel('u1', 'r1')).resolves.toEqual({ cancelled: true });
      expect(schedule.forgetCancelled).not.toHaveBeenCalled();
    });

    it('throws not found and fired', async () => {
      schedule.cancel.mockResolvedValueOnce({ outcome: 'none' });
      await expect(sut.cancel('u1', 'r1')).rejects.toBeInstanceOf(
        ScheduledNotificationNotFoundError,
      );
      schedule.cancel.mockResolvedValueOnce({ outcome: 'fired' });
      await expect(sut.cancel('u1', 'r1')).rejects.toBeInstanceOf(ScheduledNotificationFiredError);
    });

    it.each([
      ['an empty userId', '', 'k', ['userId']],
      ['a long dedupeKey', 'u1', 'k'.repeat(129), ['dedupeKey']],
      ['a lone surrogate in both', '\ud800', '\udc00', ['userId', 'dedupeKey']],
    ])('rejects %s', async (_, userId, dedupeKey, fields) => {
      const error = await sut.cancel(userId, dedupeKey).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidNotificationError);
      expect((error as InvalidNotificationError).fields).toEqual(fields);
      expect(schedule.cancel).not.toHaveBeenCalled();
    });
  });
});
