import { MARK_AS } from '@rtnotify/protocol';
import { RedisNotificationStore } from './redis-notification.store.js';
import {
  appendMany,
  appendOne,
  createSut,
  epochOf,
  idsOf,
  redis,
  request,
  useRedis,
} from './store-spec-kit.js';

/*
 * Read, seen and archived: marking them (v1 markRead and mark), and the counts they leave.
 */

useRedis();

describe(RedisNotificationStore.name, () => {
  describe('markRead', () => {
    it('counts an id read twice once, also within one call', async () => {
      const { sut } = createSut({ historyLimit: 10 });
      const [first, second] = await appendMany(sut, 'alice', 3);

      expect(await sut.markRead('alice', { ids: [first, first, second, first] })).toEqual({
        unread: 1,
        changed: true,
      });
      expect(await sut.markRead('alice', { ids: [first] })).toEqual({ unread: 1, changed: false });
      expect(await sut.unreadCount('alice')).toBe(1);
    });

    it("changes nothing when given another user's ids", async () => {
      const { sut } = createSut({ historyLimit: 10 });
      const aliceIds = await appendMany(sut, 'alice', 2);
      await appendMany(sut, 'bob', 2);

      expect(await sut.markRead('bob', { ids: aliceIds })).toEqual({ unread: 2, changed: false });
      expect(await sut.unreadCount('alice')).toBe(2);
      expect(await sut.unreadCount('bob')).toBe(2);
    });

    it('never goes below zero', async () => {
      const { sut } = createSut({ historyLimit: 10 });
      expect(await sut.markRead('alice', { all: true })).toEqual({ unread: 0, changed: false });
      expect(await sut.markRead('alice', { ids: ['x', 'abc-1', ''] })).toEqual({
        unread: 0,
        changed: false,
      });
      const ids = await appendMany(sut, 'alice', 2);

      expect(await sut.markRead('alice', { all: true })).toEqual({ unread: 0, changed: true });
      expect(await sut.markRead('alice', { all: true })).toEqual({ unread: 0, changed: false });
      expect(await sut.markRead('alice', { ids })).toEqual({ unread: 0, changed: false });
      expect(await sut.unreadCount('alice')).toBe(0);
    });
  });

  describe('states', () => {
    it('keeps seen apart from read: seen leaves unread alone, read marks seen too', async () => {
      const { sut } = createSut({ historyLimit: 10 });
      const [a, b, c] = await appendMany(sut, 'alice', 3);

      expect(await sut.mark('alice', { as: 'seen', ids: [a] })).toMatchObject({
        ids: [a],
        counts: { unread: 3, unseen: 2 },
      });
      expect(await sut.mark('alice', { as: 'read', ids: [b] })).toMatchObject({
        ids: [b],
        counts: { unread: 2, unseen: 1 },
      });
      expect(await sut.mark('alice', { as: 'unread', ids: [b] })).toMatchObject({
        ids: [b],
        counts: { unread: 3, unseen: 1 },
      });
      const page = await sut.list('alice', { limit: 10 });
      expect(
        page.items.map(({ id, read, seen, archived }) => ({ id, read, seen, archived })),
      ).toEqual([
        { id: c, read: false, seen: false, archived: false },
        { id: b, read: false, seen: true, archived: false },
        { id: a, read: false, seen: true, archived: false },
      ]);
    });

    it('archives as read and seen, leaves the counts and the inbox, and unarchives as it was', async () => {
      const { sut } = createSut({ historyLimit: 10 });
      const [a, b] = await appendMany(sut, 'alice', 2);

      expect(await sut.mark('alice', { as: 'archived', ids: [a] })).toMatchObject({
        counts: { unread: 1, unseen: 1 },
      });
      expect(idsOf(await sut.list('alice', { limit: 10 }))).toEqual([b]);
      const archived = await sut.list('alice', { limit: 10, status: 'archived' });
      expect(archived.items).toMatchObject([{ id: a, read: true, seen: true, archived: true }]);
      // Marked unread while archived: it counts again once it is back in the inbox.
      await sut.mark('alice', { as: 'unread', ids: [a] });
      expect(await sut.counts('alice')).toMatchObject({ unread: 1, unseen: 1 });
      expect(await sut.mark('alice', { as: 'unarchived', ids: [a] })).toMatchObject({
        ids: [a],
        counts: { unread: 2, unseen: 1 },
      });
      expect((await sut.list('alice', { limit: 10 })).items).toMatchObject([
        { id: b, read: false, seen: false, archived: false },
        { id: a, read: false, seen: true, archived: false },
      ]);
    });

    it('archives all read ones only, and marks all of one category', async () => {
      const { sut } = createSut({ historyLimit: 10 });
      const [a, b, c] = await sut.append([
        { ...request('alice', 'a'), category: 'billing' },
        { ...request('alice', 'b'), category: 'social' },
        { ...request('alice', 'c'), category: 'social' },
      ]);
      await sut.mark('alice', { as: 'read', ids: [a.id, b.id] });

      const archived = await sut.mark('alice', { as: 'archived', all: true, onlyRead: true });
      expect([...archived.ids].sort()).toEqual([a.id, b.id].sort());
      expect(archived.counts).toEqual({
        unread: 1,
        unseen: 1,
        categories: { social: { unread: 1, unseen: 1 } },
      });
      expect(idsOf(await sut.list('alice', { limit: 10 }))).toEqual([c.id]);

      await appendOne(sut, 'alice', 'd');
      const seen = await sut.mark('alice', { as: 'seen', all: true, category: 'social' });
      expect(seen.ids).toEqual([c.id]);
      expect(seen.counts).toEqual({
        unread: 2,
        unseen: 1,
        categories: { social: { unread: 1, unseen: 0 } },
      });
    });

    it("changes nothing and publishes nothing for another user's, unknown or garbage ids", async () => {
      const { sut, keys } = createSut({ historyLimit: 10 });
      const bobIds = await appendMany(sut, 'bob', 2);
      const [own] = await appendMany(sut, 'alice', 1);
      const subscriber = redis.duplicate();
      const messages: string[] = [];
      subscriber.on('message', (_channel: string, message: string) => messages.push(message));
      await subscriber.subscribe(keys.forUser('alice').channel, keys.forUser('bob').channel);
      try {
        for (const as of MARK_AS) {
          const result = await sut.mark('alice', {
            as,
            ids: [...bobIds, `${epochOf(own)}-99`, `${epochOf(own)}-0`, 'x', '', `${own}0`],
          });
          expect(result).toMatchObject({ ids: [], changed: 0, counts: { unread: 1, unseen: 1 } });
        }
        await sut.counts('alice'); // one more round trip: anything published would be here by now
        expect(messages).toEqual([]);
        expect(await sut.counts('bob')).toMatchObject({ unread: 2, unseen: 2 });
      } finally {
        await subscriber.quit();
      }
    });
  });
});
