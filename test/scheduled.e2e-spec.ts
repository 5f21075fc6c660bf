import { Queue, QueueEvents } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { redisOptionsFromUrl } from '../src/redis/redis-url.js';
import { http } from './kit/http.mjs';
import { failedReasonOf } from './kit/jobs.js';
import { startRedis, type RedisServer } from './kit/redis.mjs';
import { startService, type ServiceProcess } from './kit/service.mjs';
import { eventually } from './kit/timing.mjs';
import { TEST_JWT_SECRET, signToken } from './kit/tokens.mjs';
import { closeAfterEach, TestClient } from './kit/ws-client.js';

const API_KEY = 'scheduled-e2e-api-key-0123456789';

/**
 * Scheduled delivery (`deliverAt`) end to end: the built service as a process, its own Redis, real
 * sockets, HTTP publish and cancel, and a plain BullMQ producer.
 */
describe('scheduled delivery (e2e)', () => {
  let redis: RedisServer;
  let service: ServiceProcess;
  let env: Record<string, string>;
  let producer: Queue;
  let events: QueueEvents;
  const track = closeAfterEach();

  beforeAll(async () => {
    redis = await startRedis();
    const id = randomBytes(4).toString('hex');
    env = {
      NODE_ENV: 'production',
      JWT_SECRET: TEST_JWT_SECRET,
      REDIS_URL: redis.url,
      API_KEYS: API_KEY,
      NOTIFY_QUEUE: `scheduled-${id}`,
      KEY_PREFIX: `s${id}`,
    };
    service = await startService(env);
    const connection = redisOptionsFromUrl(redis.url);
    producer = new Queue(env.NOTIFY_QUEUE, { connection });
    events = new QueueEvents(env.NOTIFY_QUEUE, { connection });
    await events.waitUntilReady();
  });
  afterAll(async () => {
    await producer.close();
    await events.close();
    await service.stop('SIGKILL');
    await redis.stop();
  });

  const at = (ms: number) => new Date(Date.now() + ms).toISOString();
  const publish = (body: unknown) =>
    http('POST', `${service.httpUrl}/v1/notifications`, { token: API_KEY, body });
  const cancel = (body: unknown, token: string = API_KEY) =>
    http('DELETE', `${service.httpUrl}/v1/notifications/scheduled`, { token, body });
  const me = async (userId: string, path: string) =>
    (await http('GET', `${service.httpUrl}/v1/me${path}`, { token: await signToken(userId) })).body;
  const typesStored = async (userId: string): Promise<string[]> =>
    ((await me(userId, '/notifications?status=all')).items as { type: string }[]).map(
      (n) => n.type,
    );
  const tab = async (userId: string, since?: string) =>
    track(await TestClient.ready(service.wsUrl, { token: await signToken(userId), since }));

  /**
   * Schedules a canary `afterMs` after `deliverAt` and waits for it on `client`: BullMQ promotes
   * delayed jobs in time order, so once it is there, whatever was due before it has had its turn.
   */
  async function waitPast(client: TestClient, userId: string, deliverAt: string, afterMs = 1500) {
    const canaryAt = new Date(Date.parse(deliverAt) + afterMs).toISOString();
    expect((await publish({ userId, type: 'canary', deliverAt: canaryAt })).status).toBe(202);
    const wait = Date.parse(canaryAt) - Date.now() + 5000;
    for (;;) {
      const { notification } = await client.next('notification', wait);
      if (notification.type === 'canary') return;
    }
  }

  it('arrives at its time (±1 s), and before that is in no listing, count or resume', async () => {
    const userId = 'on-time';
    const client = await tab(userId);
    const cursor = (client.all('ready')[0] as { cursor: string }).cursor;
    const deliverAt = at(3000);

    const published = await publish({
      userId,
      type: 'reminder',
      dedupeKey: 'reminder-1',
      deliverAt,
      payload: { text: 'stand-up' },
    });
    expect(published.status).toBe(202);

    expect((await me(userId, '/notifications?status=all')).items).toEqual([]);
    expect(await me(userId, '/counts')).toEqual({ unread: 0, unseen: 0, categories: {} });
    const resumed = await tab(userId, cursor);
    expect(resumed.all('ready')[0]).toMatchObject({ replayed: 0, unread: 0 });
    expect(resumed.all('notification')).toEqual([]);
    expect(client.all('notification')).toEqual([]);
    // Every check above ran before its time.
    expect(Date.now()).toBeLessThan(Date.parse(deliverAt));

    const { notification } = await client.next('notification', 6000);
    const offsetMs = Date.now() - Date.parse(deliverAt);
    console.log(`scheduled notification arrived ${offsetMs} ms after its deliverAt`);
    expect(notification).toMatchObject({ type: 'reminder', payload: { text: 'stand-up' } });
    expect(Math.abs(offsetMs)).toBeLessThanOrEqual(1000);
    expect(Date.parse(notification.createdAt as string)).toBeGreaterThanOrEqual(
      Date.parse(deliverAt),
    );
    expect((await resumed.next('notification')).notification.id).toBe(notification.id);
    expect(await typesStored(userId)).toEqual(['reminder']);
    expect((await me(userId, '/counts')).unread).toBe(1);
  });

  it('never delivers a cancelled one; cancelling again is a 404', async () => {
    const userId = 'cancelled';
    const client = await tab(userId);
    const deliverAt = at(2000);
    const { body } = await publish({ userId, type: 'doomed', dedupeKey: 'c-1', deliverAt });

    expect(await cancel({ userId, dedupeKey: 'c-1' })).toEqual({
      status: 200,
      body: { cancelled: true },
    });
    expect((await cancel({ userId, dedupeKey: 'c-1' })).status).toBe(404);
    // A job for this user alone leaves the queue at once.
    expect(await producer.getJob(body.jobId as string)).toBeUndefined();

    await waitPast(client, userId, deliverAt);
    expect(client.all('notification').map((n) => n.notification.type)).toEqual(['canary']);
    expect(await typesStored(userId)).toEqual(['canary']);
  });

  it('answers 409 to a cancel after it fired, and 404 to a key nothing is scheduled under', async () => {
    const userId = 'too-late';
    const client = await tab(userId);
    await publish({ userId, type: 'fired', dedupeKey: 'f-1', deliverAt: at(1000) });
    await client.next('notification', 5000);

    const late = await cancel({ userId, dedupeKey: 'f-1' });
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ statusCode: 409, error: 'Conflict' });
    const unknown = await cancel({ userId, dedupeKey: 'never-scheduled' });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
    expect((await cancel({ userId: 'nobody', dedupeKey: 'f-1' })).status).toBe(404);
  });

  it('cancels for one recipient of a job for several, delivering to the others', async () => {
    const [a, b] = [await tab('group-a'), await tab('group-b')];
    const deliverAt = at(1500);
    await publish({ userIds: ['group-a', 'group-b'], type: 'team', dedupeKey: 'g-1', deliverAt });

    expect((await cancel({ userId: 'group-a', dedupeKey: 'g-1' })).status).toBe(200);

    expect((await b.next('notification', 5000)).notification.type).toBe('team');
    await waitPast(a, 'group-a', deliverAt);
    expect(a.all('notification').map((n) => n.notification.type)).toEqual(['canary']);
  });

  it('never delivers what a cancel answered 200 for, also when cancel and fire race', async () => {
    const users = Array.from({ length: 40 }, (_, i) => `racer-${i}`);
    const deliverAt = Date.now() + 3000;
    const published = await Promise.all(
      users.map((userId) =>
        publish({
          userId,
          type: 'race',
          dedupeKey: 'r',
          deliverAt: new Date(deliverAt).toISOString(),
        }),
      ),
    );
    expect(published.map((answer) => answer.status)).toEqual(users.map(() => 202));
    // The cancels go out from 100 ms before the jobs are due to 100 ms after, 5 ms apart.
    const answers = await Promise.all(
      users.map(
        (userId, i) =>
          new Promise<number>((resolve, reject) => {
            setTimeout(
              () => {
                cancel({ userId, dedupeKey: 'r' }).then((answer) => resolve(answer.status), reject);
              },
              deliverAt - 100 + i * 5 - Date.now(),
            );
          }),
      ),
    );
    const watcher = await tab('race-watcher');
    await waitPast(watcher, 'race-watcher', new Date(deliverAt).toISOString(), 1000);

    const tally = { 200: 0, 409: 0 };
    /** Cancelled once the job was no longer waiting in delayed: it ran and stored nothing. */
    let cancelledInFlight = 0;
    for (const [i, userId] of users.entries()) {
      expect([200, 409]).toContain(answers[i]);
      tally[answers[i] as 200 | 409]++;
      // 200: it never fired; 409: it did, exactly once.
      expect(await typesStored(userId)).toEqual(answers[i] === 200 ? [] : ['race']);
      const job = await producer.getJob(published[i].body.jobId as string);
      if (answers[i] === 200 && job) {
        expect(job.returnvalue).toMatchObject({ ids: [], stored: 0, expired: 0, cancelled: 1 });
        cancelledInFlight++;
      }
    }
    console.log(
      `cancel vs fire race: ${tally[200]} cancelled (${cancelledInFlight} of them after the job ` +
        `left delayed), ${tally[409]} already fired`,
    );
  });

  it('takes deliverAt from a plain BullMQ producer: parked in delayed until then, cancellable', async () => {
    const userId = 'foreign';
    const client = await tab(userId);
    const deliverAt = at(2500);
    const kept = await producer.add('notify', { userId, type: 'kept', dedupeKey: 'k', deliverAt });
    const dropped = await producer.add('notify', {
      userId,
      type: 'dropped',
      dedupeKey: 'd',
      deliverAt,
    });

    // The worker sees them at once and moves them to delayed, recording their keys.
    await eventually(async () => (await kept.getState()) === 'delayed', 5000, 'kept delayed');
    await eventually(async () => (await dropped.getState()) === 'delayed', 5000, 'dropped delayed');
    expect((await cancel({ userId, dedupeKey: 'd' })).status).toBe(200);
    expect(await typesStored(userId)).toEqual([]);

    const { notification } = await client.next('notification', 6000);
    const offsetMs = Date.now() - Date.parse(deliverAt);
    console.log(`a plain producer's scheduled job arrived ${offsetMs} ms after its deliverAt`);
    expect(notification.type).toBe('kept');
    expect(Math.abs(offsetMs)).toBeLessThanOrEqual(1000);
    expect(await kept.waitUntilFinished(events, 5000)).toMatchObject({ stored: 1, cancelled: 0 });
    expect((await cancel({ userId, dedupeKey: 'k' })).status).toBe(409);
    await waitPast(client, userId, deliverAt);
    expect(client.all('notification').map((n) => n.notification.type)).toEqual(['kept', 'canary']);
  });

  describe('rejections', () => {
    it.each([
      ['in the past', { deliverAt: '2020-01-01T00:00:00Z' }, 'deliverAt must be in the future'],
      [
        'more than 30 days ahead',
        { deliverAt: new Date(Date.now() + 31 * 86_400_000).toISOString() },
        'deliverAt must be at most 30 days ahead',
      ],
      ['without a zone', { deliverAt: '2099-01-01T00:00:00' }, 'deliverAt must be an ISO 8601'],
      ['not a date', { deliverAt: 'tomorrow' }, 'deliverAt must be an ISO 8601'],
      ['a number', { deliverAt: 1_900_000_000_000 }, 'deliverAt must be an ISO 8601'],
      [
        'not before expiresAt',
        { deliverAt: at(60_000), expiresAt: at(30_000) },
        'deliverAt must be earlier than expiresAt',
      ],
    ])('publish refuses a deliverAt %s with a 400 naming it', async (_, fields, message) => {
      const answer = await publish({ userId: 'strict', type: 't', dedupeKey: 'x', ...fields });
      expect(answer.status).toBe(400);
      expect(answer.body.fields).toEqual(['deliverAt']);
      expect(answer.body.message.join(' ')).toContain(message);
    });

    it('fails a plain producer job with a bad deliverAt, and a batch item with one, at once', async () => {
      const past = await producer.add('notify', {
        userId: 'strict',
        type: 't',
        deliverAt: '2020-01-01T00:00:00Z',
      });
      expect(await failedReasonOf(producer, past, 5000)).toMatch(/deliverAt must be in the future/);
      const batch = await producer.add('notify-batch', {
        items: [{ userId: 'strict', type: 't', deliverAt: at(60_000) }],
      });
      expect(await failedReasonOf(producer, batch, 5000)).toMatch(
        /items\.0: deliverAt is not allowed in a notify-batch item/,
      );
      expect(await typesStored('strict')).toEqual([]);
    });

    it.each([
      ['no dedupeKey', { userId: 'u1' }, 400],
      ['an empty dedupeKey', { userId: 'u1', dedupeKey: '' }, 400],
      ['a dedupeKey of 129 characters', { userId: 'u1', dedupeKey: 'k'.repeat(129) }, 400],
      ['a userId that is not a string', { userId: 7, dedupeKey: 'k' }, 400],
      ['an unknown field', { userId: 'u1', dedupeKey: 'k', jobId: 'j' }, 400],
    ])('cancel refuses a body with %s', async (_, body, status) => {
      const answer = await cancel(body);
      expect(answer.status).toBe(status);
      expect(answer.body.statusCode).toBe(status);
    });

    it('cancel needs the API key', async () => {
      expect((await cancel({ userId: 'u1', dedupeKey: 'k' }, 'wrong-key')).status).toBe(401);
    });
  });

  it('loses and doubles nothing that waits in delayed when the service is killed', async () => {
    const userId = 'restart';
    const deliverAt = at(6000);
    await publish({ userId, type: 'via-http', dedupeKey: 'h', deliverAt });
    const foreign = await producer.add('notify', {
      userId,
      type: 'via-bullmq',
      dedupeKey: 'b',
      deliverAt,
    });
    await eventually(async () => (await foreign.getState()) === 'delayed', 5000, 'parked');

    await service.stop('SIGKILL');
    // Both were waiting in delayed when the service died.
    expect(Date.now()).toBeLessThan(Date.parse(deliverAt));
    service = await startService(env);
    const client = await tab(userId);

    await waitPast(client, userId, deliverAt);
    expect((await typesStored(userId)).sort()).toEqual(['canary', 'via-bullmq', 'via-http']);
  });
});
