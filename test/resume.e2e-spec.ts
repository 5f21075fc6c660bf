import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from './kit/redis.mjs';
import { startTestApp, type TestApp } from './kit/test-app.js';
import { signToken } from './kit/tokens.mjs';
import { closeAfterEach, TestClient } from './kit/ws-client.js';

describe('resume with since (e2e)', () => {
  let t: TestApp;
  let redis: RedisServer;
  const track = closeAfterEach();

  beforeAll(async () => {
    // A private Redis: one case here flushes it, as a Redis that lost its data would be.
    redis = await startRedis();
    t = await startTestApp({ REDIS_URL: redis.url, HISTORY_LIMIT: '5' });
  });
  afterAll(async () => {
    await t.close();
    await redis.stop();
  });

  async function tab(userId: string, since?: string) {
    const client = TestClient.connect(t.wsUrl, { token: await signToken(userId), since });
    track(client);
    return client;
  }

  async function store(userId: string, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let n = 0; n < count; n++) {
      const job = await t.producer.add('notify', { userId, type: 'resume.item', payload: { n } });
      ids.push(((await job.waitUntilFinished(t.queueEvents, 5000)) as { ids: string[] }).ids[0]);
    }
    return ids;
  }

  it('replays exactly what was missed, in order, before ready', async () => {
    const first = await tab('returning');
    await first.next('ready');
    const [seen] = await store('returning', 1);
    expect((await first.next('notification')).notification.id).toBe(seen);
    await first.close();

    const missed = await store('returning', 3);
    const back = await tab('returning', seen);
    const ready = await back.next('ready');
    expect(ready).toEqual({
      userId: 'returning',
      unread: 4,
      replayed: 3,
      truncated: false,
      cursor: missed[2],
      counts: { unread: 4, unseen: 4, categories: {} },
    });
    expect(back.frames.map((frame) => frame.event)).toEqual([
      'notification',
      'notification',
      'notification',
      'ready',
    ]);
    expect(back.notificationIds()).toEqual(missed);
    expect(back.all('notification').map((data) => data.notification.payload.n)).toEqual([0, 1, 2]);

    const [live] = await store('returning', 1);
    expect((await back.next('notification')).notification.id).toBe(live);
  });

  it('resumes from ready.cursor a client that had seen nothing, even from an empty history', async () => {
    const first = await tab('newcomer');
    const { cursor } = await first.next('ready');
    await first.close();
    const missed = await store('newcomer', 2);
    const back = await tab('newcomer', cursor as string);
    expect(await back.next('ready')).toMatchObject({
      replayed: 2,
      truncated: false,
      cursor: missed[1],
    });
    expect(back.notificationIds()).toEqual(missed);
  });

  it('replays nothing and is not truncated when nothing was missed', async () => {
    const ids = await store('up-to-date', 2);
    const client = await tab('up-to-date', ids[1]);
    expect(await client.next('ready')).toMatchObject({ replayed: 0, truncated: false, unread: 2 });
  });

  it('keeps the read flag in a replay', async () => {
    const ids = await store('flags', 3);
    const reader = await tab('flags');
    await reader.next('ready');
    reader.send('read', { ids: [ids[2]] });
    await reader.next('unread');
    const client = await tab('flags', ids[0]);
    await client.next('ready');
    expect(client.all('notification').map((data) => data.notification.read)).toEqual([false, true]);
  });

  it('says truncated when since is older than the retained history', async () => {
    const ids = await store('trimmed', 8);
    const client = await tab('trimmed', ids[0]);
    expect(await client.next('ready')).toMatchObject({ replayed: 0, truncated: true, unread: 5 });
    // From the oldest retained id on, nothing is missing.
    const exact = await tab('trimmed', ids[2]);
    expect(await exact.next('ready')).toMatchObject({ replayed: 5, truncated: false });
  });

  it('says truncated for an unknown or malformed since', async () => {
    const ids = await store('unknown', 1);
    const [epoch] = ids[0].split('-');
    for (const since of [`${epoch}-99`, 'ffffffffff-1', 'garbage', '1-1-1']) {
      const client = await tab('unknown', since);
      expect(await client.next('ready'), since).toMatchObject({
        truncated: true,
        replayed: 0,
        unread: 1,
      });
    }
  });

  it('says truncated after Redis lost its data, and carries on with new ids', async () => {
    const [old] = await store('reset', 2);
    const admin = new Redis(redis.url);
    await admin.flushall();
    await admin.quit();
    const client = await tab('reset', old);
    expect(await client.next('ready')).toMatchObject({ truncated: true, replayed: 0, unread: 0 });
    const [fresh] = await store('reset', 1);
    expect(fresh.split('-')[0]).not.toBe(old.split('-')[0]);
    expect((await client.next('notification')).notification.id).toBe(fresh);
  });

  it('makes a live socket resume when its history is reset under it', async () => {
    await store('reset-live', 1);
    const client = await tab('reset-live');
    await client.next('ready');
    const admin = new Redis(redis.url);
    await admin.flushall();
    await admin.quit();
    await store('reset-live', 1);
    expect(await client.waitClosed()).toMatchObject({ code: 1011, reason: /history reset/ });
  });
});

describe('a replay larger than a socket may buffer (e2e)', () => {
  let t: TestApp;
  const track = closeAfterEach();

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('arrives whole, in order, before ready: it goes to the kernel in parts, not held as one', async () => {
    const userId = 'large-replay';
    const first = TestClient.connect(t.wsUrl, { token: await signToken(userId) });
    track(first);
    const { cursor } = await first.next('ready');
    await first.close();
    // 100 payloads of 15,000 bytes: 1.5 MB, more than maxBufferedBytes (1 MiB) at once.
    const pad = 'x'.repeat(15_000);
    const jobs = await t.producer.addBulk(
      Array.from({ length: 100 }, (_, n) => ({
        name: 'notify',
        data: { userId, type: 'resume.large', payload: { n, pad } },
      })),
    );
    for (const job of jobs) await job.waitUntilFinished(t.queueEvents, 10_000);

    const back = TestClient.connect(t.wsUrl, { token: await signToken(userId), since: cursor });
    track(back);
    expect(await back.next('ready', 10_000)).toMatchObject({ replayed: 100, truncated: false });
    // In the order they were stored (the jobs ran concurrently), each once.
    const seqs = back.notificationIds().map((id) => Number(id.split('-')[1]));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const numbers = back.all('notification').map((data) => data.notification.payload.n as number);
    expect(numbers.sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, n) => n));
  });
});
