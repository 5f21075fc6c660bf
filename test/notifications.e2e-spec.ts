import { Queue } from 'bullmq';
import { closeAfterEach, TestClient } from './kit/ws-client.js';
import { startTestApp, type TestApp } from './kit/test-app.js';
import { signToken } from './kit/tokens.mjs';
import { redisOptionsFromUrl } from '../src/redis/redis-url.js';

describe('delivery (e2e)', () => {
  let t: TestApp;
  const track = closeAfterEach();

  async function tab(userId: string, options: { viaProtocol?: boolean; since?: string } = {}) {
    const client = await TestClient.ready(t.wsUrl, { token: await signToken(userId), ...options });
    track(client);
    return client;
  }

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('sends ready with the user id, the unread count and the counts', async () => {
    const client = TestClient.connect(t.wsUrl, { token: await signToken('ready-user') });
    track(client);
    expect(await client.next('ready')).toEqual({
      userId: 'ready-user',
      unread: 0,
      replayed: 0,
      truncated: false,
      cursor: expect.stringMatching(/^[a-z0-9]+-0$/),
      counts: { unread: 0, unseen: 0, categories: {} },
    });
  });

  it('delivers a job from a plain BullMQ producer to every tab of the user and to no one else', async () => {
    const [tab1, tab2, other] = [
      await tab('alice'),
      await tab('alice', { viaProtocol: true }),
      await tab('bob'),
    ];
    await t.producer.add('notify', {
      userId: 'alice',
      type: 'comment.created',
      payload: { postId: 7 },
    });
    const [got1, got2] = [await tab1.next('notification'), await tab2.next('notification')];
    expect(got1).toEqual(got2);
    expect(got1.unread).toBe(1);
    expect(got1.notification).toMatchObject({
      type: 'comment.created',
      payload: { postId: 7 },
      read: false,
    });
    expect(typeof got1.notification.id).toBe('string');
    expect(Number.isNaN(Date.parse(got1.notification.createdAt))).toBe(false);

    await t.producer.add('notify', { userId: 'bob', type: 'ping.test' });
    const bobs = await other.next('notification');
    expect(bobs.notification.type).toBe('ping.test');
    expect(other.all('notification')).toHaveLength(1);
    expect(tab1.all('notification')).toHaveLength(1);
  });

  it('accepts the token as the subprotocol pair and answers with the bearer protocol', async () => {
    const client = await tab('proto-user', { viaProtocol: true });
    expect(client.socket.protocol).toBe('bearer');
  });

  it('delivers one notification to each user of userIds', async () => {
    const users = ['u-1', 'u-2', 'u-3'];
    const tabs = await Promise.all(users.map((user) => tab(user)));
    const job = await t.producer.add('notify', { userIds: users, type: 'digest.ready' });
    const received = await Promise.all(tabs.map((client) => client.next('notification')));
    expect(received.map((data) => data.notification.type)).toEqual(Array(3).fill('digest.ready'));
    await job.waitUntilFinished(t.queueEvents, 5000);
    expect(tabs.map((client) => client.all('notification').length)).toEqual([1, 1, 1]);
  });

  it('stores and delivers a dedupeKey once per user', async () => {
    const client = await tab('dedupe-user');
    const first = await t.producer.add('notify', {
      userId: 'dedupe-user',
      type: 'order.paid',
      dedupeKey: 'order-1',
    });
    await first.waitUntilFinished(t.queueEvents, 5000);
    const second = await t.producer.add('notify', {
      userId: 'dedupe-user',
      type: 'order.paid',
      dedupeKey: 'order-1',
    });
    const result = await second.waitUntilFinished(t.queueEvents, 5000);
    expect(result.stored).toBe(0);
    const third = await t.producer.add('notify', {
      userId: 'dedupe-user',
      type: 'order.paid',
      dedupeKey: 'order-2',
    });
    await third.waitUntilFinished(t.queueEvents, 5000);
    await client.next('notification');
    const last = await client.next('notification');
    expect(last.unread).toBe(2);
    expect(client.all('notification')).toHaveLength(2);
  });

  it('stores the jobs of many concurrent one-job producers, coalesced, each exactly once', async () => {
    const users = ['co-0', 'co-1', 'co-2', 'co-3', 'co-4'];
    const tabs = await Promise.all(users.map((user) => tab(user)));
    const producers = Array.from(
      { length: 6 },
      () => new Queue(t.config.queueName, { connection: redisOptionsFromUrl(t.config.redisUrl) }),
    );
    try {
      // 6 producers × 40 jobs at the same time, one job each: the worker has many in flight
      // together. Each producer also sends one dedupe key twice (stored once) and one invalid job.
      const jobs = (
        await Promise.all(
          producers.map(async (producer, p) => {
            const added = [];
            for (let n = 0; n < 40; n++) {
              const userId = users[(p + n) % users.length];
              added.push(
                await producer.add('notify', { userId, type: 'co.steady', payload: { p, n } }),
              );
            }
            for (let i = 0; i < 2; i++) {
              const userId = users[p % users.length];
              added.push(
                await producer.add('notify', { userId, type: 'co.dedupe', dedupeKey: `co-${p}` }),
              );
            }
            added.push(
              await producer.add(
                'notify',
                { userId: users[0], type: 'Not Valid' },
                { attempts: 5 },
              ),
            );
            return added;
          }),
        )
      ).flat();
      // Each wait listens for its queue's 'closing': 43 waits per producer, on purpose.
      for (const producer of producers) producer.setMaxListeners(0);
      const outcomes = await Promise.allSettled(
        jobs.map((job) => job.waitUntilFinished(t.queueEvents, 15_000)),
      );
      const failed = jobs.filter((_, i) => outcomes[i].status === 'rejected');
      expect(failed.map((job) => job.data.type)).toEqual(Array(6).fill('Not Valid'));
      for (const job of failed) expect((await t.producer.getJob(job.id!))?.attemptsMade).toBe(1);

      // 240 steady + 6 deduped, spread evenly: 48 + (dedupes landing on the user) each.
      const expected = users.map(
        (_, u) => 48 + [0, 1, 2, 3, 4, 5].filter((p) => p % users.length === u).length,
      );
      const received = await Promise.all(
        tabs.map(async (client, u) => {
          for (let i = 0; i < expected[u]; i++) await client.next('notification', 10_000);
          return client.all('notification');
        }),
      );
      received.forEach((frames, u) => {
        expect(frames).toHaveLength(expected[u]);
        expect(new Set(frames.map((f) => f.notification.id)).size).toBe(expected[u]);
        const steady = frames.filter((f) => f.notification.type === 'co.steady');
        expect(
          new Set(steady.map((f) => `${f.notification.payload.p}/${f.notification.payload.n}`))
            .size,
        ).toBe(48);
        expect(Math.max(...frames.map((f) => f.unread as number))).toBe(expected[u]);
      });
    } finally {
      await Promise.all(producers.map((producer) => producer.close()));
    }
  });

  it('fails an invalid job at once, without retries, naming the fields, delivering nothing', async () => {
    const client = await tab('strict-user');
    const job = await t.producer.add(
      'notify',
      { userId: 'strict-user', type: 'Bad Type!', payload: [1, 2], extra: true },
      { attempts: 5, backoff: { type: 'fixed', delay: 10 } },
    );
    await expect(job.waitUntilFinished(t.queueEvents, 5000)).rejects.toThrow(/type/);
    const failed = await t.producer.getJob(job.id!);
    expect(failed?.attemptsMade).toBe(1);
    expect(failed?.failedReason).toMatch(/type must/);
    expect(failed?.failedReason).toMatch(/payload must be an object/);
    expect(failed?.failedReason).toMatch(/property extra should not exist/);
    expect(await failed?.getState()).toBe('failed');

    await t.producer.add('notify', { userId: 'strict-user', type: 'after.bad' });
    expect((await client.next('notification')).notification.type).toBe('after.bad');
    expect(client.all('notification')).toHaveLength(1);
  });

  it('fails a job with both userId and userIds, and one with a payload over 16 KiB', async () => {
    const both = await t.producer.add('notify', { userId: 'a', userIds: ['b'], type: 'x' });
    await expect(both.waitUntilFinished(t.queueEvents, 5000)).rejects.toThrow(
      /exactly one of userId or userIds/,
    );
    const big = await t.producer.add('notify', {
      userId: 'a',
      type: 'x',
      payload: { blob: 'x'.repeat(16 * 1024) },
    });
    await expect(big.waitUntilFinished(t.queueEvents, 5000)).rejects.toThrow(
      /payload must be at most 16384 bytes/,
    );
    const wrongName = await t.producer.add('send', { userId: 'a', type: 'x' });
    await expect(wrongName.waitUntilFinished(t.queueEvents, 5000)).rejects.toThrow(
      /unknown job name/,
    );
  });

  it('counts unread up and down across tabs; reading twice counts once; never below zero', async () => {
    const [tab1, tab2] = [await tab('reader'), await tab('reader')];
    for (const n of [1, 2, 3]) {
      await t.producer.add('notify', { userId: 'reader', type: 'n.new', payload: { n } });
    }
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const data = await tab1.next('notification');
      expect(data.unread).toBe(n);
      ids.push(data.notification.id);
      expect((await tab2.next('notification')).unread).toBe(n);
    }
    tab1.send('read', { ids: [ids[0]] });
    expect(await tab1.next('unread')).toEqual({ unread: 2 });
    expect(await tab2.next('unread')).toEqual({ unread: 2 });

    tab2.send('read', { ids: [ids[0], 'someone-elses-1', 'not-an-id'] });
    expect(await tab2.next('unread')).toEqual({ unread: 2 });

    tab2.send('read', { all: true });
    expect(await tab1.next('unread')).toEqual({ unread: 0 });
    expect(await tab2.next('unread')).toEqual({ unread: 0 });
    tab1.send('read', { all: true });
    expect(await tab1.next('unread')).toEqual({ unread: 0 });
    // Only the sender is told when nothing changed.
    tab2.send('ping');
    await tab2.next('pong');
    expect(tab2.all('unread')).toHaveLength(3);
  });

  it("does not let one user read another user's notifications", async () => {
    const [owner, intruder] = [await tab('owner'), await tab('intruder')];
    await t.producer.add('notify', { userId: 'owner', type: 'secret.thing' });
    const { notification } = await owner.next('notification');
    intruder.send('read', { ids: [notification.id] });
    expect(await intruder.next('unread')).toEqual({ unread: 0 });
    owner.send('read', { ids: [notification.id] });
    expect(await owner.next('unread')).toEqual({ unread: 0 });
  });

  it('takes the batch form: notify-batch with items, in one job, in order', async () => {
    const [a, b] = [await tab('batch-a'), await tab('batch-b')];
    const job = await t.producer.add('notify-batch', {
      items: [
        { userId: 'batch-a', type: 'b.one' },
        { userIds: ['batch-a', 'batch-b'], type: 'b.two', payload: { k: 1 } },
        { userId: 'batch-a', type: 'b.three', dedupeKey: 'same' },
        { userId: 'batch-a', type: 'b.four', dedupeKey: 'same' },
      ],
    });
    const result = await job.waitUntilFinished(t.queueEvents, 5000);
    expect(result.stored).toBe(4);
    for (const type of ['b.one', 'b.two', 'b.three']) {
      expect((await a.next('notification')).notification.type).toBe(type);
    }
    expect((await b.next('notification')).notification.type).toBe('b.two');
    const bad = await t.producer.add('notify-batch', {
      items: [
        { userId: 'batch-a', type: 'ok' },
        { userId: 'batch-a', type: 'NOT OK' },
      ],
    });
    await expect(bad.waitUntilFinished(t.queueEvents, 5000)).rejects.toThrow(/type must/);
    expect((await t.producer.getJob(bad.id!))?.failedReason).toMatch(
      /^invalid notification job: items\.1: type must/,
    );
    a.send('ping');
    await a.next('pong');
    expect(a.all('notification')).toHaveLength(3);
  });
});
