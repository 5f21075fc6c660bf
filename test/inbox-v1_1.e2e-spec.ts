import { http } from './kit/http.mjs';
import { closeAfterEach, TestClient } from './kit/ws-client.js';
import { startTestApp, type TestApp } from './kit/test-app.js';
import { signToken } from './kit/tokens.mjs';

/** Protocol 1.1 end to end: the job contract's new fields, states, counts, collapse and expiry. */
describe('protocol 1.1 (e2e)', () => {
  let t: TestApp;
  const track = closeAfterEach();

  async function tab(userId: string, options: { since?: string } = {}) {
    return track(await TestClient.ready(t.wsUrl, { token: await signToken(userId), ...options }));
  }

  const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();

  /** Stores notifications one at a time (so store order is this order); returns their ids. */
  async function store(userId: string, items: Record<string, unknown>[]): Promise<string[]> {
    const ids: string[] = [];
    for (const item of items) {
      const job = await t.producer.add('notify', { userId, type: 'item', ...item });
      const result = (await job.waitUntilFinished(t.queueEvents, 5000)) as { ids: string[] };
      ids.push(result.ids[0]);
    }
    return ids;
  }

  const api = async (userId: string, method: string, path: string, body?: unknown) =>
    http(method, `${t.httpUrl}/v1/me${path}`, { token: await signToken(userId), body });
  const idsOf = (body: { items: { id: string }[] }) => body.items.map((item) => item.id);

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  describe('job contract', () => {
    it('stores and delivers category, collapseKey and expiresAt from a plain BullMQ producer', async () => {
      const client = await tab('contract-user');
      const expiresAt = inSeconds(3600);
      const job = await t.producer.add('notify', {
        userId: 'contract-user',
        type: 'invoice.paid',
        category: 'billing',
        collapseKey: 'invoice:7',
        expiresAt: expiresAt.replace('Z', '+00:00'),
      });
      expect(await job.waitUntilFinished(t.queueEvents, 5000)).toMatchObject({
        stored: 1,
        expired: 0,
      });

      expect((await client.next('notification')).notification).toMatchObject({
        type: 'invoice.paid',
        category: 'billing',
        collapseKey: 'invoice:7',
        expiresAt,
        read: false,
        seen: false,
        archived: false,
      });
    });

    it.each([
      ['a category outside [a-z0-9._-]', { category: 'Billing!' }, /category must use only/],
      ['a category of 65 chars', { category: 'c'.repeat(65) }, /category must be/],
      ['a collapseKey of 129 chars', { collapseKey: 'k'.repeat(129) }, /collapseKey must be 1-128/],
      [
        'an expiresAt without a zone',
        { expiresAt: '2099-01-01T00:00:00' },
        /expiresAt must be an ISO 8601/,
      ],
      [
        'an expiresAt in the past',
        { expiresAt: '2020-01-01T00:00:00Z' },
        /expiresAt must be in the future/,
      ],
    ])('fails a job with %s at once, naming the field', async (_, extra, reason) => {
      const job = await t.producer.add('notify', { userId: 'strict', type: 't', ...extra });

      await expect(job.waitUntilFinished(t.queueEvents, 5000)).rejects.toThrow(reason);
      expect((await t.producer.getJob(job.id!))?.attemptsMade).toBe(1);
    });

    it('names the batch item whose new field is wrong', async () => {
      const job = await t.producer.add('notify-batch', {
        items: [
          { userId: 'strict', type: 't', category: 'ok' },
          { userId: 'strict', type: 't', category: 'NOT OK' },
        ],
      });

      await expect(job.waitUntilFinished(t.queueEvents, 5000)).rejects.toThrow(
        /items\.1: category must use only/,
      );
    });

    it('stores nothing of a job whose expiresAt passed while it waited in the queue', async () => {
      const client = await tab('late-user');
      // Enqueued in time, processed too late: the worker only sees it after its delay.
      const job = await t.producer.add(
        'notify',
        { userId: 'late-user', type: 't', expiresAt: inSeconds(0.2) },
        { delay: 600 },
      );

      expect(await job.waitUntilFinished(t.queueEvents, 5000)).toEqual({
        ids: [],
        stored: 0,
        expired: 1,
        suppressed: 0,
      });
      await t.producer.add('notify', { userId: 'late-user', type: 'after' });
      expect((await client.next('notification')).notification.type).toBe('after');
      expect(client.all('notification')).toHaveLength(1);
    });
  });

  describe('expiry', () => {
    it('tells open sockets that a notification expired, with the new counts, without anyone reading', async () => {
      const [tab1, tab2] = [await tab('expiring'), await tab('expiring')];
      await t.producer.add('notify', { userId: 'expiring', type: 'keep', category: 'social' });
      await t.producer.add('notify', {
        userId: 'expiring',
        type: 'flash.sale',
        category: 'promo',
        expiresAt: inSeconds(1),
      });
      await tab1.next('notification');
      const flash = (await tab1.next('notification')).notification;

      for (const client of [tab1, tab2]) {
        expect(await client.next('removed', 8000)).toEqual({
          ids: [flash.id],
          reason: 'expired',
          counts: { unread: 1, unseen: 1, categories: { social: { unread: 1, unseen: 1 } } },
        });
        expect(await client.next('unread')).toEqual({ unread: 1 });
      }
    });
  });

  describe('states and counts over the socket', () => {
    it('keeps two tabs in step through categories, seen, read and archive, items and counts', async () => {
      const [tab1, tab2] = [await tab('stepper'), await tab('stepper')];
      const [bill, chat1, chat2] = await store('stepper', [
        { category: 'billing' },
        { category: 'social' },
        { category: 'social' },
      ]);
      let last: Record<string, any> = {};
      for (let n = 0; n < 3; n++) last = await tab2.next('notification');
      expect(last.counts).toEqual({
        unread: 3,
        unseen: 3,
        categories: { billing: { unread: 1, unseen: 1 }, social: { unread: 2, unseen: 2 } },
      });

      // The bell was opened in tab 1: every tab hears it, the unread count does not move.
      tab1.send('mark', { as: 'seen', all: true });
      for (const client of [tab1, tab2]) {
        expect(await client.next('marked')).toEqual({
          as: 'seen',
          all: true,
          counts: {
            unread: 3,
            unseen: 0,
            categories: { billing: { unread: 1, unseen: 0 }, social: { unread: 2, unseen: 0 } },
          },
        });
      }
      expect(tab1.all('unread')).toEqual([]);

      // One item read in tab 2: both tabs get the ids, and v1's unread.
      tab2.send('mark', { as: 'read', ids: [chat1] });
      for (const client of [tab1, tab2]) {
        expect(await client.next('marked')).toMatchObject({
          as: 'read',
          ids: [chat1],
          counts: { unread: 2, categories: { social: { unread: 1, unseen: 0 } } },
        });
        expect(await client.next('unread')).toEqual({ unread: 2 });
      }

      // Archive all read: the read one leaves the inbox; the counts stay.
      tab1.send('mark', { as: 'archived', all: true, onlyRead: true });
      for (const client of [tab1, tab2]) {
        expect(await client.next('marked')).toMatchObject({
          as: 'archived',
          all: true,
          onlyRead: true,
          counts: { unread: 2, unseen: 0 },
        });
      }
      expect(idsOf((await api('stepper', 'GET', '/notifications')).body)).toEqual([chat2, bill]);
      expect(
        (await api('stepper', 'GET', '/notifications?status=archived')).body.items,
      ).toMatchObject([{ id: chat1, read: true, seen: true, archived: true, category: 'social' }]);

      // Archiving an unread one marks it read and seen on the way.
      tab2.send('mark', { as: 'archived', ids: [bill] });
      expect(await tab1.next('marked')).toMatchObject({
        ids: [bill],
        counts: { unread: 1, unseen: 0, categories: { social: { unread: 1, unseen: 0 } } },
      });
      expect(await tab1.next('unread')).toEqual({ unread: 1 });
    });

    it('answers only the sender when nothing changed', async () => {
      const [tab1, tab2] = [await tab('idle-marker'), await tab('idle-marker')];
      const [id] = await store('idle-marker', [{}]);
      await tab1.next('notification');
      await tab2.next('notification');

      tab1.send('mark', { as: 'unread', ids: [id, 'someone-else-1'] });
      expect(await tab1.next('marked')).toEqual({
        as: 'unread',
        ids: [],
        counts: { unread: 1, unseen: 1, categories: {} },
      });
      tab1.send('mark', { as: 'unarchived', all: true });
      expect(await tab1.next('marked')).toMatchObject({
        as: 'unarchived',
        all: true,
        counts: { unread: 1 },
      });
      tab1.send('ping');
      await tab1.next('pong');
      expect(tab2.all('marked')).toEqual([]);
    });

    it('answers a bad mark frame with error, naming why, and keeps the socket', async () => {
      const client = await tab('bad-marker');
      for (const data of [
        { as: 'deleted', ids: ['a-1'] },
        { as: 'read', ids: ['a-1'], category: 'billing' },
        { as: 'read' },
        { as: 'archived', all: true, onlyRead: 'yes' },
      ]) {
        client.send('mark', data);
        expect(await client.next('error')).toMatchObject({ code: 'invalid_data' });
      }
      expect(client.all('error').map((error) => error.message)).toEqual([
        expect.stringContaining('as must be one of: read, unread, seen, archived, unarchived'),
        expect.stringContaining('category may only be given with all'),
        expect.stringContaining('exactly one of ids or all is required'),
        expect.stringContaining('onlyRead must be a boolean'),
      ]);
      client.send('ping');
      await client.next('pong');
    });
  });

  describe('collapse', () => {
    it('folds a burst with one key into one item that counts them, on every tab and after a resume', async () => {
      const before = await tab('burst');
      const [first] = await store('burst', [{ type: 'welcome' }]);
      await before.next('notification');
      const watcher = await tab('burst');
      const burst = await store(
        'burst',
        Array.from({ length: 5 }, (_, n) => ({
          type: 'comment.created',
          category: 'social',
          collapseKey: 'post:42',
          payload: { by: `user${n}` },
        })),
      );

      let last: Record<string, any> = {};
      for (let n = 0; n < 5; n++) last = await watcher.next('notification');
      expect(last).toMatchObject({
        notification: {
          id: burst[4],
          collapsedCount: 5,
          replaces: burst[3],
          collapseKey: 'post:42',
        },
        unread: 2,
        counts: { unread: 2, unseen: 2, categories: { social: { unread: 1, unseen: 1 } } },
      });
      expect(watcher.all('removed').map((removed) => removed.ids[0])).toEqual(burst.slice(0, 4));
      expect(watcher.all('removed').every((removed) => removed.reason === 'collapsed')).toBe(true);
      expect(watcher.all('notification').map((data) => data.unread)).toEqual([2, 2, 2, 2, 2]);

      const page = (await api('burst', 'GET', '/notifications')).body;
      expect(page.items).toMatchObject([
        { id: burst[4], collapsedCount: 5, payload: { by: 'user4' } },
        { id: first },
      ]);
      await before.close();
      const resumed = await tab('burst', { since: first });
      expect(resumed.notificationIds()).toEqual([burst[4]]);
    });
  });

  describe('HTTP', () => {
    it('marks with POST /v1/me/notifications/mark, answering the counts and telling the sockets', async () => {
      const client = await tab('http-marker');
      const [a, b] = await store('http-marker', [{ category: 'billing' }, {}]);

      const marked = await api('http-marker', 'POST', '/notifications/mark', {
        as: 'read',
        ids: [a],
      });
      expect(marked).toEqual({
        status: 200,
        body: { unread: 1, unseen: 1, categories: {} },
      });
      expect(await client.next('marked')).toMatchObject({ as: 'read', ids: [a] });
      expect(await api('http-marker', 'GET', '/counts')).toEqual({
        status: 200,
        body: { unread: 1, unseen: 1, categories: {} },
      });
      expect(idsOf((await api('http-marker', 'GET', '/notifications?status=unread')).body)).toEqual(
        [b],
      );
      expect(idsOf((await api('http-marker', 'GET', '/notifications?status=read')).body)).toEqual([
        a,
      ]);
      expect(
        idsOf((await api('http-marker', 'GET', '/notifications?status=all&category=billing')).body),
      ).toEqual([a]);
    });

    it.each([
      ['an unknown as', { as: 'starred', ids: ['a-1'] }, /as must be one of/],
      ['ids and all', { as: 'read', ids: ['a-1'], all: true }, /exactly one of ids or all/],
      [
        'a category with ids',
        { as: 'read', ids: ['a-1'], category: 'x' },
        /category may only be given with all/,
      ],
      ['a bad category', { as: 'seen', all: true, category: 'A B' }, /category must use only/],
      ['an unknown key', { as: 'seen', all: true, extra: 1 }, /property extra should not exist/],
      ['no body', undefined, /as must be one of/],
    ])('answers 400 to a mark with %s, saying why', async (_, body, message) => {
      const response = await api('http-bad', 'POST', '/notifications/mark', body);

      expect(response.status).toBe(400);
      expect(JSON.stringify(response.body)).toMatch(message);
    });

    it.each([
      ['an unknown status', '?status=starred', /status must be one of/],
      ['a bad category', '?category=Not%20OK', /category must use only/],
      ['an empty category', '?category=', /category must be/],
    ])('answers 400 to a listing with %s', async (_, query, message) => {
      const response = await api('http-bad', 'GET', `/notifications${query}`);

      expect(response.status).toBe(400);
      expect(JSON.stringify(response.body)).toMatch(message);
    });

    it('answers 401 to counts and mark without a token', async () => {
      expect((await http('GET', `${t.httpUrl}/v1/me/counts`)).status).toBe(401);
      expect(
        (
          await http('POST', `${t.httpUrl}/v1/me/notifications/mark`, {
            body: { as: 'read', all: true },
          })
        ).status,
      ).toBe(401);
    });

    it('pages a filtered listing without overlap or gap while notifications arrive and states change', async () => {
      const ids = await store(
        'http-pager',
        Array.from({ length: 9 }, (_, n) => ({ category: n % 3 === 0 ? 'billing' : 'social' })),
      );
      const social = ids.filter((_, n) => n % 3 !== 0).reverse(); // newest first: 8 7 5 4 2 1
      const seen: string[] = [];
      let cursor: string | null = null;
      let round = 0;
      do {
        const query: string = `?status=unread&category=social&limit=2${cursor ? `&before=${cursor}` : ''}`;
        const { body } = await api('http-pager', 'GET', `/notifications${query}`);
        seen.push(...idsOf(body));
        cursor = body.nextCursor;
        // Between pages: news arrives, and what was listed already is read.
        await store('http-pager', [{ category: 'social' }]);
        await api('http-pager', 'POST', '/notifications/mark', { as: 'read', ids: idsOf(body) });
        round++;
      } while (cursor !== null && round < 10);

      expect(seen).toEqual(social);
    });
  });
});
