import type { InboxPage } from '@rtnotify/protocol';
import { RedisNotificationStore } from './redis-notification.store.js';
import { appendMany, createSut, idsOf, useRedis } from './store-spec-kit.js';

/*
 * Listing: paging with before, by status and category, while the history changes.
 */

useRedis();

describe(RedisNotificationStore.name, () => {
  describe('list', () => {
    it.each([1, 2, 3, 4, 5, 9, 10, 11])(
      'pages with before (limit %i) without overlap or gap',
      async (limit) => {
        const { sut } = createSut({ historyLimit: 10 });
        const ids = await appendMany(sut, 'alice', 13); // the 3 oldest are trimmed
        await sut.markRead('alice', { ids: [ids[4], ids[9]] });
        const everything = await sut.list('alice', { limit: 100 });
        expect(idsOf(everything)).toEqual(ids.slice(3).reverse());

        const seen: string[] = [];
        const pages: InboxPage[] = [];
        let before: string | undefined;
        do {
          const page = await sut.list('alice', { limit, before });
          pages.push(page);
          seen.push(...idsOf(page));
          before = page.nextCursor ?? undefined;
        } while (before !== undefined && pages.length <= 20);

        expect(seen).toEqual(idsOf(everything));
        expect(pages.flatMap((p) => p.items)).toEqual(everything.items);
        expect(pages).toHaveLength(Math.ceil(10 / limit));
        for (const page of pages.slice(0, -1)) {
          expect(page.items).toHaveLength(limit);
          expect(page.nextCursor).toBe(page.items[limit - 1].id);
        }
        expect(pages.at(-1)?.nextCursor).toBeNull();
        expect(pages.every((p) => p.unread === 8)).toBe(true);
      },
    );

    it('returns an empty last page for a cursor before the retained history or not its own', async () => {
      const { sut } = createSut({ historyLimit: 3 });
      const ids = await appendMany(sut, 'alice', 5);
      const [bobId] = await appendMany(sut, 'bob', 1);

      for (const before of [ids[0], ids[2], bobId, 'garbage']) {
        expect(await sut.list('alice', { limit: 10, before })).toEqual({
          items: [],
          unread: 3,
          counts: { unread: 3, unseen: 3, categories: {} },
          nextCursor: null,
        });
      }
      expect(idsOf(await sut.list('alice', { limit: 10, before: ids[3] }))).toEqual([ids[2]]);
    });
  });

  describe('list filters', () => {
    it('pages a filtered listing without overlap or gap while notifications arrive and states change', async () => {
      const { sut } = createSut({ historyLimit: 50 });
      const ids = await appendMany(sut, 'alice', 12);
      // Odd ones read: the unread listing holds the even ones, newest first.
      await sut.mark('alice', { as: 'read', ids: ids.filter((_, i) => i % 2 === 1) });

      const first = await sut.list('alice', { limit: 2, status: 'unread' });
      expect(idsOf(first)).toEqual([ids[10], ids[8]]);
      // Between pages: news on top, the first page's items read, a later page's item archived.
      await appendMany(sut, 'alice', 2);
      await sut.mark('alice', { as: 'read', ids: [ids[10], ids[8]] });
      await sut.mark('alice', { as: 'archived', ids: [ids[4]] });
      const rest: string[] = [];
      let before = first.nextCursor ?? undefined;
      while (before !== undefined) {
        const page = await sut.list('alice', { limit: 2, status: 'unread', before });
        rest.push(...idsOf(page));
        before = page.nextCursor ?? undefined;
      }

      expect(rest).toEqual([ids[6], ids[2], ids[0]]);
    });

    it('answers an unknown category or a history without categories with an empty page', async () => {
      const { sut } = createSut({ historyLimit: 10 });
      await appendMany(sut, 'alice', 2);

      expect(await sut.list('alice', { limit: 10, category: 'billing' })).toMatchObject({
        items: [],
        nextCursor: null,
        counts: { unread: 2 },
      });
    });
  });
});
