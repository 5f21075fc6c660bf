import { randomUUID } from 'node:crypto';
import { NotificationsSettings } from '../notifications.settings.js';
import type { NotificationsRedis } from './notifications-redis.js';
import { RedisNotificationStore } from './redis-notification.store.js';
import { RedisScheduleStore } from './redis-schedule.store.js';
import { RedisKeys } from './redis-keys.js';
import { redis, request, useRedis } from './store-spec-kit.js';

/*
 * The schedule records against a real Redis: each step of cancel and fire in every order they can
 * meet in, since each script is atomic.
 */

useRedis();

describe(RedisScheduleStore.name, () => {
  let sut: RedisScheduleStore;
  let history: RedisNotificationStore;
  let keys: RedisKeys;

  beforeEach(() => {
    const keyPrefix = `spec:schedule:${randomUUID()}`;
    const settings = new NotificationsSettings({ keyPrefix });
    const connection = { client: redis } as NotificationsRedis;
    sut = new RedisScheduleStore(connection, settings);
    history = new RedisNotificationStore(connection, settings);
    keys = new RedisKeys(keyPrefix);
  });

  /** What the worker does at the job's time: claim, store, release. */
  async function fire(userIds: string[], dedupeKey: string, jobId: string): Promise<string[]> {
    const claims = await sut.claim(userIds, dedupeKey, jobId);
    const claimed = userIds.filter((_, i) => claims[i]);
    await history.append(claimed.map((userId) => request(userId, `k:${dedupeKey}`)));
    await sut.release(claimed, dedupeKey, jobId);
    return claimed;
  }

  it('keeps its records in the user hash tag, beside the history', () => {
    expect(keys.forUser('alice').scheduled).toMatch(/:\{alice\}:s$/);
    expect(keys.forUser('alice').all).not.toContain(keys.forUser('alice').scheduled);
  });

  it('cancel before the claim: the job stores nothing, and a second cancel finds nothing', async () => {
    expect(await sut.record(['alice', 'bob'], 'r', 'job1')).toEqual([true, true]);

    expect(await sut.cancel('alice', 'r')).toEqual({ outcome: 'cancelled', jobId: 'job1' });
    expect(await sut.cancel('alice', 'r')).toEqual({ outcome: 'none' });
    expect(await fire(['alice', 'bob'], 'r', 'job1')).toEqual(['bob']);

    // The cancel marker stays; the fired one is the history's now.
    expect(await redis.hgetall(keys.forUser('alice').scheduled)).toEqual({ r: 'x:job1' });
    expect(await redis.hgetall(keys.forUser('bob').scheduled)).toEqual({});
    expect(await sut.cancel('bob', 'r')).toEqual({ outcome: 'fired' });
    expect(await sut.cancel('alice', 'r')).toEqual({ outcome: 'none' });
  });

  it('a retried attempt of a job for several users still leaves out the one it was cancelled for', async () => {
    await sut.record(['alice', 'bob'], 'r', 'job1');
    await sut.cancel('alice', 'r');

    expect(await fire(['alice', 'bob'], 'r', 'job1')).toEqual(['bob']);
    // The first attempt's store failed (say): BullMQ runs the job again.
    expect(await sut.claim(['alice', 'bob'], 'r', 'job1')).toEqual([false, true]);
    expect(await sut.cancel('alice', 'r')).toEqual({ outcome: 'none' });
  });

  it('cancel after the claim, before the store: "fired", and it is stored', async () => {
    await sut.record(['alice'], 'r', 'job1');
    expect(await sut.claim(['alice'], 'r', 'job1')).toEqual([true]);

    expect(await sut.cancel('alice', 'r')).toEqual({ outcome: 'fired' });
    // A retried attempt claims again (its first store failed, say).
    expect(await fire(['alice'], 'r', 'job1')).toEqual(['alice']);
    expect(await sut.cancel('alice', 'r')).toEqual({ outcome: 'fired' });
  });

  it('a cancelled job that comes back (a lost lock) stays cancelled', async () => {
    await sut.record(['alice'], 'r', 'job1');
    await sut.cancel('alice', 'r');

    expect(await sut.record(['alice'], 'r', 'job1')).toEqual([false]);
    expect(await fire(['alice'], 'r', 'job1')).toEqual([]);
  });

  it('the latest schedule of a key owns it: the earlier job stores nothing', async () => {
    await sut.record(['alice'], 'r', 'job1');
    await sut.record(['alice'], 'r', 'job2');

    expect(await fire(['alice'], 'r', 'job1')).toEqual([]);
    expect(await sut.cancel('alice', 'r')).toEqual({ outcome: 'cancelled', jobId: 'job2' });
    expect(await fire(['alice'], 'r', 'job2')).toEqual([]);
  });

  it('a job nothing recorded (its producer delayed it itself) fires, and is not cancellable', async () => {
    expect(await sut.cancel('alice', 'r')).toEqual({ outcome: 'none' });
    expect(await fire(['alice'], 'r', 'job1')).toEqual(['alice']);
  });

  it('unrecord and forgetCancelled remove only the state they name', async () => {
    await sut.record(['alice'], 'r', 'job2');
    await sut.unrecord(['alice'], 'r', 'job1');
    expect(await redis.hget(keys.forUser('alice').scheduled, 'r')).toBe('job2');
    await sut.unrecord(['alice'], 'r', 'job2');
    expect(await redis.hget(keys.forUser('alice').scheduled, 'r')).toBeNull();

    await sut.record(['alice'], 'r', 'job3');
    await sut.cancel('alice', 'r');
    await sut.forgetCancelled('alice', 'r', 'job2');
    expect(await redis.hget(keys.forUser('alice').scheduled, 'r')).toBe('x:job3');
    await sut.forgetCancelled('alice', 'r', 'job3');
    expect(await redis.hget(keys.forUser('alice').scheduled, 'r')).toBeNull();
  });
});
