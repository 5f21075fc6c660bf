import { TestClient } from './support/ws-client.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { signToken } from './support/tokens.js';

/** Protocol 1.1 end to end: the job contract's new fields, states, counts, collapse and expiry. */
describe('protocol 1.1 (e2e)', () => {
  let t: TestApp;
  const open: TestClient[] = [];

  async function tab(userId: string, options: { since?: string } = {}) {
    const client = await TestClient.ready(t.wsUrl, { token: await signToken(userId), ...options });
    open.push(client);
    return client;
  }

  const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((client) => client.close()));
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
});
