import { startRedis, type RedisServer } from './kit/redis.mjs';
import { eventually } from './kit/timing.mjs';
import { http, metricValue } from './kit/http.mjs';
import { startTestApp, type TestApp } from './kit/test-app.js';
import { signToken } from './kit/tokens.mjs';
import { TestClient } from './kit/ws-client.js';

const API_KEY = 'producer-key-0123456789';

describe('operations (e2e)', () => {
  describe('health, metrics and HTTP publish', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ API_KEYS: `${API_KEY},another-key-0123456789` });
    });
    afterAll(async () => {
      await t.close();
    });

    it('answers liveness and readiness', async () => {
      expect(await http('GET', `${t.httpUrl}/health/live`)).toMatchObject({
        status: 200,
        body: { status: 'ok' },
      });
      expect(await http('GET', `${t.httpUrl}/health/ready`)).toMatchObject({
        status: 200,
        body: { status: 'ok', info: { redis: { status: 'up' } } },
      });
    });

    it('publishes over HTTP with an API key: 202, then delivered', async () => {
      const client = await TestClient.ready(t.wsUrl, { token: await signToken('http-target') });
      const { status, body } = await http('POST', `${t.httpUrl}/v1/notifications`, {
        token: API_KEY,
        body: { userId: 'http-target', type: 'http.published', payload: { from: 'curl' } },
      });
      expect(status).toBe(202);
      expect(body.jobId).toEqual(expect.any(String));
      expect((await client.next('notification')).notification).toMatchObject({
        type: 'http.published',
        payload: { from: 'curl' },
      });
      await client.close();
    });

    it('answers 401 for a missing or unknown key, 400 naming the fields', async () => {
      const url = `${t.httpUrl}/v1/notifications`;
      const body = { userId: 'x', type: 'ok.type' };
      expect((await http('POST', url, { body })).status).toBe(401);
      expect(await http('POST', url, { body, token: 'not-a-key-of-ours-at-all' })).toMatchObject({
        status: 401,
        body: { message: 'unknown API key' },
      });
      const bad = await http('POST', url, {
        token: API_KEY,
        body: {
          userIds: Array.from({ length: 1001 }, (_, i) => `u${i}`),
          type: 'BAD TYPE',
          extra: 1,
        },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.fields).toEqual(expect.arrayContaining(['userIds', 'type', 'extra']));
      const proto = await http('POST', url, {
        token: API_KEY,
        body: JSON.parse('{"__proto__":{"x":1},"userId":"a","type":"t"}'),
      });
      expect(proto).toMatchObject({ status: 400, body: { fields: ['__proto__'] } });
      const big = await http('POST', url, {
        token: API_KEY,
        body: { userId: 'a', type: 't', payload: { b: 'x'.repeat(16 * 1024) } },
      });
      expect(big).toMatchObject({ status: 400, body: { fields: ['payload'] } });
    });

    it('answers a retried publish with the same Idempotency-Key with the first job, storing once', async () => {
      const url = `${t.httpUrl}/v1/notifications`;
      const user = 'idempotent-target';
      const body = { userId: user, type: 'http.retried', payload: { n: 1 } };
      const headers = { 'idempotency-key': 'order-17-shipped' };
      const first = await http('POST', url, { token: API_KEY, body, headers });
      const again = await http('POST', url, { token: API_KEY, body, headers });
      // The IETF draft's structured-field form of the same key is the same key.
      const quoted = await http('POST', url, {
        token: API_KEY,
        body,
        headers: { 'idempotency-key': '"order-17-shipped"' },
      });
      // Another API key's holder using the same key: a request of its own.
      const otherKey = await http('POST', url, { token: 'another-key-0123456789', body, headers });
      // The same key with another body: refused (422, as the IETF draft advises), nothing added.
      const reused = await http('POST', url, {
        token: API_KEY,
        body: { ...body, payload: { n: 2 } },
        headers,
      });

      expect(first).toMatchObject({
        status: 202,
        body: { jobId: expect.stringMatching(/^idem-/) },
      });
      expect(again).toEqual(first);
      expect(quoted).toEqual(first);
      expect(reused).toMatchObject({
        status: 422,
        body: { statusCode: 422, message: expect.stringContaining('Idempotency-Key') },
      });
      expect(otherKey.status).toBe(202);
      expect(otherKey.body.jobId).not.toBe(first.body.jobId);
      await Promise.all(
        [first, otherKey].map(({ body: b }) =>
          t.producer.getJob(b.jobId).then((job) => job!.waitUntilFinished(t.queueEvents, 10_000)),
        ),
      );
      const token = await signToken(user);
      const inbox = await http('GET', `${t.httpUrl}/v1/me/notifications`, { token });
      expect(inbox.body.items).toHaveLength(2);
    });

    it('answers a retried publish with the same dedupeKey with the first job, storing once', async () => {
      const url = `${t.httpUrl}/v1/notifications`;
      const user = 'dedupe-target';
      const body = { userIds: [user, 'someone'], type: 'http.retried', dedupeKey: 'inv-A-17' };
      const first = await http('POST', url, { token: API_KEY, body });
      const again = await http('POST', url, {
        token: API_KEY,
        body: { ...body, userIds: ['someone', user] },
      });

      expect(first).toMatchObject({
        status: 202,
        body: { jobId: expect.stringMatching(/^idem-/) },
      });
      expect(again).toEqual(first);
      await (await t.producer.getJob(first.body.jobId))!.waitUntilFinished(t.queueEvents, 10_000);
      const inbox = await http('GET', `${t.httpUrl}/v1/me/notifications`, {
        token: await signToken(user),
      });
      expect(inbox.body.items).toHaveLength(1);
    });

    it('answers 400 naming Idempotency-Key for a malformed key, and enqueues nothing', async () => {
      const url = `${t.httpUrl}/v1/notifications`;
      const before = await t.producer.count();
      for (const key of ['', 'has space', 'k'.repeat(256), 'clé', 'a,b']) {
        const answer = await http('POST', url, {
          token: API_KEY,
          body: { userId: 'x', type: 'ok.type' },
          headers: { 'idempotency-key': key },
        });
        expect(answer).toMatchObject({
          status: 400,
          body: { fields: ['Idempotency-Key'], message: [expect.stringContaining('1–255')] },
        });
      }
      const both = await http('POST', url, {
        token: API_KEY,
        body: { userId: 'x', type: 'BAD TYPE' },
        headers: { 'idempotency-key': 'has space' },
      });
      expect(both.body.fields).toEqual(['Idempotency-Key', 'type']);
      expect(await t.producer.count()).toBe(before);
    });

    it('exposes Prometheus metrics', async () => {
      const client = await TestClient.ready(t.wsUrl, { token: await signToken('metered') });
      await t.producer.add('notify', { userId: 'metered', type: 'metric.check' });
      await client.next('notification');
      const rejected = TestClient.connect(t.wsUrl, {});
      await rejected.waitClosed();
      const { status, body } = await http('GET', `${t.httpUrl}/metrics`);
      expect(status).toBe(200);
      expect(metricValue(body, 'notifications_open_sockets')).toBe(1);
      expect(metricValue(body, 'notifications_connected_users')).toBe(1);
      expect(metricValue(body, 'notifications_stored_total')).toBeGreaterThanOrEqual(1);
      expect(metricValue(body, 'notifications_delivered_total')).toBeGreaterThanOrEqual(1);
      expect(
        metricValue(body, 'notifications_enqueue_to_push_seconds_count'),
      ).toBeGreaterThanOrEqual(1);
      expect(body).toContain('notifications_closed_connections_total{code="4401"} 1');
      expect(body).toMatch(/notifications_queue_jobs\{state="waiting"\} \d+/);
      expect(body).toMatch(/notifications_failed_jobs_total/);
      await client.close();
    });
  });

  describe('heartbeat', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ PING_INTERVAL_MS: '200', PING_TIMEOUT_MS: '200' });
    });
    afterAll(async () => {
      await t.close();
    });

    it('drops a socket that stops answering pings and keeps one that answers', async () => {
      const healthy = await TestClient.ready(t.wsUrl, { token: await signToken('alive') });
      const silent = await TestClient.ready(t.wsUrl, {
        token: await signToken('silent'),
        autoPong: false,
      });
      expect((await silent.waitClosed(5000)).code).toBe(1006);
      healthy.send('ping', { ts: 7 });
      expect(await healthy.next('pong')).toEqual({ ts: 7 });
      const { body } = await http('GET', `${t.httpUrl}/metrics`);
      expect(metricValue(body, 'notifications_open_sockets')).toBe(1);
      await healthy.close();
    });
  });

  describe('a slow consumer', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ MAX_BUFFERED_BYTES: String(256 * 1024) });
    });
    afterAll(async () => {
      await t.close();
    });

    it('is closed with 4008 while a normal socket keeps receiving', async () => {
      const slow = await TestClient.ready(t.wsUrl, { token: await signToken('slow') });
      const normal = await TestClient.ready(t.wsUrl, { token: await signToken('normal') });
      // The slow client stops reading: the server's buffer for it grows past the limit.
      slow.socket.pause();
      // The server cuts a closed slow consumer that does not drain within 5 s: the client reads
      // again as soon as the server has closed it (4008 counted), while the production goes on, so
      // that it reads the close frame in time however long the production takes.
      const closedByServer = eventually(
        async () => {
          const { body } = await http('GET', `${t.httpUrl}/metrics`);
          return body.includes('notifications_closed_connections_total{code="4008"} 1');
        },
        60_000,
        '4008 close',
      ).then(() => slow.socket.resume());
      const blob = 'x'.repeat(15 * 1024);
      for (let i = 0; i < 40; i++) {
        await t.producer.addBulk(
          Array.from({ length: 25 }, (_, k) => ({
            name: 'notify',
            data: { userId: 'slow', type: 'big.one', payload: { i: i * 25 + k, blob } },
          })),
        );
        await t.producer.add('notify', { userId: 'normal', type: 'small.one', payload: { i } });
        await normal.next('notification');
      }
      await closedByServer;
      expect((await slow.waitClosed(10_000)).code).toBe(4008);
      expect(slow.all('notification').length).toBeLessThan(1000);
      expect(normal.all('notification')).toHaveLength(40);
      await normal.close();
    });
  });

  describe('Redis stopped and restarted under a live gateway', () => {
    let redis: RedisServer;
    let t: TestApp;
    const dir = `/tmp/notif-restart-${process.pid}`;

    beforeAll(async () => {
      redis = await startRedis({ appendonly: true, dir });
      t = await startTestApp({ REDIS_URL: redis.url, API_KEYS: API_KEY });
    });
    afterAll(async () => {
      await t.close();
      await redis.stop();
    });

    it('turns not ready (503), answers publish with 503 fast, and recovers by itself', async () => {
      const token = await signToken('through-restart');
      const client = await TestClient.ready(t.wsUrl, { token });
      await t.producer.add('notify', { userId: 'through-restart', type: 'before.restart' });
      const before = await client.next('notification');

      await redis.stop();
      expect(
        (
          await eventually(
            async () => {
              const ready = await http('GET', `${t.httpUrl}/health/ready`);
              return ready.status === 503 && ready;
            },
            10_000,
            'readiness 503',
          )
        ).body,
      ).toMatchObject({ status: 'error', error: { redis: { status: 'down' } } });
      const started = Date.now();
      const publish = await http('POST', `${t.httpUrl}/v1/notifications`, {
        token: API_KEY,
        body: { userId: 'through-restart', type: 'during.outage' },
      });
      expect(publish.status).toBe(503);
      // Metrics still answer, without the queue counts Redis cannot give.
      expect((await http('GET', `${t.httpUrl}/metrics`)).status).toBe(200);
      expect(Date.now() - started).toBeLessThan(6000);

      redis = await startRedis({ appendonly: true, dir, port: redis.port });
      await eventually(
        async () => (await http('GET', `${t.httpUrl}/health/ready`)).status === 200,
        15_000,
        'readiness 200',
      );
      // The socket was live before the outage: it is made to resume so that any gap is replayed.
      expect(await client.waitClosed(10_000)).toMatchObject({ code: 1011, reason: /interrupted/ });
      const resumed = await TestClient.ready(t.wsUrl, { token, since: before.notification.id });
      await t.producer.add('notify', { userId: 'through-restart', type: 'after.restart' });
      expect((await resumed.next('notification', 10_000)).notification.type).toBe('after.restart');
      await resumed.close();
    });
  });
});
