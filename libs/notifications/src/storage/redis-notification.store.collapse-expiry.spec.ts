import { decodeChannelMessage } from './channel-message.js';
import type { AppendResult } from './notification.store.js';
import { RedisNotificationStore } from './redis-notification.store.js';
import {
  appendMany,
  createSut,
  idsOf,
  parseFrames,
  redis,
  request,
  useRedis,
  type ReplayFrame,
} from './store-spec-kit.js';

/*
 * Notifications that leave before their time: replaced by a newer one with the same collapse key,
 * or expired.
 */

useRedis();

describe(RedisNotificationStore.name, () => {
  describe('collapse', () => {
    it('replaces a burst with one notification that counts them, without growing the counts', async () => {
      const { sut } = createSut({ historyLimit: 10 });
      const [before] = await appendMany(sut, 'alice', 1);
      const burst: AppendResult[] = [];
      for (let n = 0; n < 5; n++) {
        const [result] = await sut.append([
          { ...request('alice', `c-${n}`, n), collapseKey: 'post:1', category: 'social' },
        ]);
        burst.push(result);
      }

      expect(burst.map((r) => r.replaced)).toEqual([
        undefined,
        ...burst.slice(0, 4).map((r) => r.id),
      ]);
      const page = await sut.list('alice', { limit: 10 });
      expect(
        page.items.map(({ id, collapsedCount, replaces, collapseKey }) => ({
          id,
          collapsedCount,
          replaces,
          collapseKey,
        })),
      ).toEqual([
        { id: burst[4].id, collapsedCount: 5, replaces: burst[3].id, collapseKey: 'post:1' },
        { id: before, collapsedCount: undefined, replaces: undefined, collapseKey: undefined },
      ]);
      expect(page.counts).toEqual({
        unread: 2,
        unseen: 2,
        categories: { social: { unread: 1, unseen: 1 } },
      });
      // Resuming from before the burst replays the newest one only, and nothing was lost.
      const resumed = await sut.replay('alice', before);
      expect(resumed.truncated).toBe(false);
      expect(parseFrames(resumed.frames).map((f) => f.data.notification.id)).toEqual([burst[4].id]);
      // A retried job of a replaced one stores nothing.
      expect(
        await sut.append([{ ...request('alice', 'c-0'), collapseKey: 'post:1' }]),
      ).toMatchObject([{ stored: false, id: burst[0].id }]);
    });

    it('keeps a seen one seen when it replaces it: neither count grows', async () => {
      const { sut } = createSut({ historyLimit: 10 });
      const first = { ...request('alice', 'a'), collapseKey: 'k', category: 'social' };
      const [old] = await sut.append([first]);
      await sut.mark('alice', { as: 'seen', all: true });
      const before = await sut.counts('alice');

      const [replacing] = await sut.append([{ ...first, dedupeKey: 'b' }]);

      expect(replacing.replaced).toBe(old.id);
      expect(await sut.counts('alice')).toEqual(before);
      expect(before).toEqual({
        unread: 1,
        unseen: 0,
        categories: { social: { unread: 1, unseen: 0 } },
      });
      expect((await sut.list('alice', { limit: 10 })).items).toMatchObject([
        { id: replacing.id, read: false, seen: true, collapsedCount: 2, replaces: old.id },
      ]);
    });

    it('does not replace a read or archived one', async () => {
      const { sut } = createSut({ historyLimit: 10 });
      const [first] = await sut.append([{ ...request('alice', 'a'), collapseKey: 'k' }]);
      await sut.mark('alice', { as: 'read', ids: [first.id] });
      const [second] = await sut.append([{ ...request('alice', 'b'), collapseKey: 'k' }]);
      await sut.mark('alice', { as: 'archived', ids: [second.id] });
      const [third] = await sut.append([{ ...request('alice', 'c'), collapseKey: 'k' }]);

      expect([first.replaced, second.replaced, third.replaced]).toEqual([
        undefined,
        undefined,
        undefined,
      ]);
      expect(idsOf(await sut.list('alice', { limit: 10, status: 'all' }))).toEqual([
        third.id,
        second.id,
        first.id,
      ]);
      // Still unread: the next one replaces it.
      const [fourth] = await sut.append([{ ...request('alice', 'd'), collapseKey: 'k' }]);
      expect(fourth.replaced).toBe(third.id);
      expect(await sut.counts('alice')).toMatchObject({ unread: 1, unseen: 1 });
    });
  });

  describe('expiry', () => {
    it('removes an expired one from listings, replays and counts, for the sweeper or the next read', async () => {
      const { sut, keys } = createSut({ historyLimit: 10 });
      const subscriber = redis.duplicate();
      const frames: ReplayFrame[] = [];
      subscriber.on('message', (_channel: string, message: string) =>
        frames.push(JSON.parse(decodeChannelMessage('alice', message)!.frame) as ReplayFrame),
      );
      await subscriber.subscribe(keys.forUser('alice').channel);
      try {
        const [keep] = await appendMany(sut, 'alice', 1);
        const soon = new Date(Date.now() + 300).toISOString();
        const [gone] = await sut.append([
          { ...request('alice', 'x'), category: 'billing', expiresAt: soon },
        ]);
        expect((await sut.list('alice', { limit: 10 })).items[0]).toMatchObject({
          id: gone.id,
          expiresAt: soon,
        });
        expect(await sut.sweepExpired()).toEqual({ removed: 0, more: false });

        await vi.waitFor(
          async () => {
            expect(await sut.sweepExpired()).toEqual({ removed: 1, more: false });
          },
          { timeout: 5000, interval: 50 },
        );

        expect(await redis.zcard(keys.expiringIndexes[0])).toBe(0);
        expect(idsOf(await sut.list('alice', { limit: 10, status: 'all' }))).toEqual([keep]);
        expect(await sut.counts('alice')).toEqual({ unread: 1, unseen: 1, categories: {} });
        const resumed = await sut.replay('alice', keep);
        expect(resumed).toMatchObject({ truncated: false, frames: [] });
        await vi.waitFor(() => expect(frames.map((f) => f.event)).toContain('unread'));
        expect(frames.slice(-2)).toEqual([
          {
            event: 'removed',
            data: {
              ids: [gone.id],
              reason: 'expired',
              counts: { unread: 1, unseen: 1, categories: {} },
            },
          },
          { event: 'unread', data: { unread: 1 } },
        ]);
      } finally {
        await subscriber.quit();
      }
    });

    it('keeps a user due when an append set an earlier expiry while a sweep ran', async () => {
      const { keys } = createSut({ historyLimit: 10 });
      const read = 1_000_000;
      await redis.zadd(keys.expiringIndexes[0], read, 'alice', read, 'bob');
      // A sweep read `read` for both; then an append moved alice earlier (as append does: LT).
      await redis.zadd(keys.expiringIndexes[0], 'LT', read - 500, 'alice');

      // The sweep found their next expiries at 2,000,000 (alice) and none (bob).
      expect(
        await redis.notifReschedule(keys.expiringIndexes[0], 'alice', String(read), 2_000_000),
      ).toBe(0);
      expect(await redis.notifReschedule(keys.expiringIndexes[0], 'bob', String(read), -1)).toBe(1);

      expect(await redis.zrange(keys.expiringIndexes[0], 0, -1, 'WITHSCORES')).toEqual([
        'alice',
        String(read - 500),
      ]);
    });
  });
});
