import type { AppendRequest, AppendResult } from './notification.store.js';
import { RedisNotificationStore } from './redis-notification.store.js';
import {
  appendOne,
  createSut,
  idsOf,
  parseFrames,
  redis,
  request,
  seqOf,
  useRedis,
} from './store-spec-kit.js';

/*
 * Appending: dedupe keys, and trimming the history by age (the trim by count is in the model-based
 * spec).
 */

useRedis();

describe(RedisNotificationStore.name, () => {
  describe('dedupe', () => {
    it('keeps at most historyLimit keys and forgets those of trimmed notifications', async () => {
      const limit = 5;
      const { sut, keys } = createSut({ historyLimit: limit });
      const k = keys.forUser('alice');
      const results: AppendResult[] = [];
      for (let batch = 0; batch < 3; batch++) {
        const requests = Array.from({ length: limit }, (_, i) =>
          request('alice', `key-${batch * limit + i}`),
        );
        results.push(...(await sut.append(requests)));
      }
      expect(results.every((r) => r.stored)).toBe(true);

      expect(await redis.zcard(k.dedupe)).toBeLessThanOrEqual(limit);
      expect((await redis.zrange(k.dedupe, 0, -1)).sort()).toEqual(
        ['key-10', 'key-11', 'key-12', 'key-13', 'key-14'].sort(),
      );

      const again = await appendOne(sut, 'alice', 'key-0');
      expect(again.stored).toBe(true);
      expect(seqOf(again.id)).toBe(16);
      expect(await appendOne(sut, 'alice', 'key-14')).toMatchObject({
        stored: false,
        id: results[14].id,
      });
      expect(await redis.zcard(k.dedupe)).toBeLessThanOrEqual(limit);
    });

    it('stores a key once per user, also within one batch', async () => {
      const { sut } = createSut({ historyLimit: 5 });

      const [a1, a2, b1] = await sut.append([
        request('alice', 'same'),
        request('alice', 'same'),
        request('bob', 'same'),
      ]);

      expect(a1).toMatchObject({ stored: true, unread: 1 });
      expect(a2).toEqual({ userId: 'alice', id: a1.id, stored: false, unread: 1 });
      expect(b1).toMatchObject({ userId: 'bob', stored: true, unread: 1 });
      expect(await sut.unreadCount('alice')).toBe(1);
    });
  });

  describe('historyMaxAgeSeconds', () => {
    const HOUR = 3600_000;

    afterEach(() => {
      vi.useRealTimers();
    });

    /** Appends as if it were `at` (only Date is faked, so ioredis's timers keep working). */
    async function appendAt(
      sut: RedisNotificationStore,
      at: number,
      requests: AppendRequest[],
    ): Promise<AppendResult[]> {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(at);
      try {
        return await sut.append(requests);
      } finally {
        vi.useRealTimers();
      }
    }

    it('trims entries older than the cutoff, with their dedupe keys, on the next append', async () => {
      const { sut, keys } = createSut({ historyLimit: 50, historyMaxAgeSeconds: 2 * 3600 });
      const now = Date.now();
      const [old1, old2] = await appendAt(sut, now - 3 * HOUR, [
        request('alice', 'old-1'),
        request('alice', 'old-2'),
      ]);
      // Within the max age of the old ones, and still within it at `now`.
      const [recent] = await appendAt(sut, now - 1.5 * HOUR, [request('alice', 'recent')]);
      await sut.markRead('alice', { ids: [old1.id] });
      // Nothing is trimmed until the next append.
      expect(idsOf(await sut.list('alice', { limit: 100 }))).toEqual([recent.id, old2.id, old1.id]);

      const fresh = await appendOne(sut, 'alice', 'fresh');

      expect(fresh).toMatchObject({ stored: true, unread: 2 });
      const page = await sut.list('alice', { limit: 100 });
      expect(idsOf(page)).toEqual([fresh.id, recent.id]);
      expect(page.unread).toBe(2);
      expect(await sut.unreadCount('alice')).toBe(2);
      expect((await redis.zrange(keys.forUser('alice').dedupe, 0, -1)).sort()).toEqual([
        'fresh',
        'recent',
      ]);
      // Resuming after the first trimmed entry lost something; after the last one, nothing.
      expect(await sut.replay('alice', old1.id)).toMatchObject({ truncated: true, frames: [] });
      const resumed = await sut.replay('alice', old2.id);
      expect(resumed.truncated).toBe(false);
      expect(parseFrames(resumed.frames).map((f) => f.data.notification.id)).toEqual([
        recent.id,
        fresh.id,
      ]);
      // A trimmed key can be stored again; a retained one cannot.
      expect(await appendOne(sut, 'alice', 'old-1')).toMatchObject({ stored: true, unread: 3 });
      expect(await appendOne(sut, 'alice', 'recent')).toEqual({
        userId: 'alice',
        id: recent.id,
        stored: false,
        unread: 3,
      });
    });

    it('trims every entry older than the cutoff, also more than 100 of them', async () => {
      const { sut } = createSut({ historyLimit: 1000, historyMaxAgeSeconds: 3600 });
      const old = Array.from({ length: 101 }, (_, i) => request('alice', `old-${i}`));
      await appendAt(sut, Date.now() - 3 * HOUR, old);

      const fresh = await appendOne(sut, 'alice', 'fresh');

      expect(idsOf(await sut.list('alice', { limit: 1000 }))).toEqual([fresh.id]);
      expect(await sut.unreadCount('alice')).toBe(1);
    });

    it('gives every key of the user a TTL of at most historyMaxAgeSeconds', async () => {
      const { sut, keys } = createSut({ historyLimit: 50, historyMaxAgeSeconds: 3600 });
      await sut.replay('bob', undefined);
      expect(await redis.ttl(keys.forUser('bob').meta)).toBeGreaterThan(0);

      await appendOne(sut, 'alice', 'k');

      const k = keys.forUser('alice');
      for (const key of [k.history, k.meta, k.dedupe]) {
        const ttl = await redis.ttl(key);
        expect({ key, ttl: ttl > 0 && ttl <= 3600 }).toEqual({ key, ttl: true });
      }
    });

    it('sets no TTL without a max age', async () => {
      const { sut, keys } = createSut({ historyLimit: 50 });
      await appendOne(sut, 'alice', 'k');

      const k = keys.forUser('alice');
      for (const key of [k.history, k.meta, k.dedupe]) {
        expect({ key, ttl: await redis.ttl(key) }).toEqual({ key, ttl: -1 });
      }
    });
  });
});
