import { Queue } from 'bullmq';
import { inject } from 'vitest';
import { redisOptionsFromUrl } from '../../src/redis/redis-url.js';
import { eventually } from '../kit/timing.mjs';
import { http, metricValue, postRaw, scrapeMetrics } from '../kit/http.mjs';
import { failedReasonOf } from '../kit/jobs.js';
import { rssKiB } from '../kit/processes.mjs';
import { rawExchange, upgradeHead } from '../kit/raw-http.mjs';
import { startService, type ServiceProcess } from '../kit/service.mjs';
import { isolatedEnv, startTestApp } from '../kit/test-app.js';
import { TEST_JWT_SECRET, signToken } from '../kit/tokens.mjs';
import { STACK_LINE, useWatchedService } from '../kit/watched-service.js';
import { TestClient } from '../kit/ws-client.js';

/**
 * The cases of a black-box red-team pass against the built service (issue 10), each answered with a
 * clear refusal that harms no one else. Each test prints what it measured.
 */

const API_KEY = 'red-team-api-key-0123456789abcdef';
const METRICS_TOKEN = 'red-team-metrics-token-0123456789';

/** `[[[…]]]`: `depth` nested arrays. */
const nestedArrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('red-team cases against the built service (e2e)', { timeout: 60_000 }, () => {
  const watched = useWatchedService({
    name: 'red-team',
    apiKey: API_KEY,
    env: {
      METRICS_TOKEN,
      // The heartbeat alone would drop a socket that never reads within 35 s; here it cannot be
      // what cuts the flooder.
      PING_INTERVAL_MS: '60000',
      PING_TIMEOUT_MS: '30000',
      // Short enough for a test to wait out (the defaults are 10 s and 30 s).
      HTTP_HEADERS_TIMEOUT_MS: '3000',
      HTTP_REQUEST_TIMEOUT_MS: '6000',
    },
  });
  const { queueName } = watched;
  const ready = (sub: string) => watched.ready(sub);
  let s: ServiceProcess;
  beforeAll(() => {
    s = watched.service;
  });

  async function metrics(): Promise<string> {
    return scrapeMetrics(s.httpUrl, METRICS_TOKEN);
  }

  afterAll(() => {
    const log = s?.output() ?? '';
    expect(log).not.toMatch(STACK_LINE);
    expect(log).not.toContain(TEST_JWT_SECRET);
    expect(log).not.toContain(METRICS_TOKEN);
  });

  describe('1. ping flood', () => {
    it('a socket that never reads and floods pings is cut within seconds, and the service memory stays put', async () => {
      const pings = 300_000;
      const flooder = await ready('ping-flooder');
      const bystander = await ready('ping-bystander');
      const openBefore = metricValue(await metrics(), 'notifications_open_sockets');
      flooder.socket.pause();
      const rssBefore = rssKiB(s.pid!);
      let rssPeak = rssBefore;

      // Pings go out in chunks while the service's open sockets are watched, until it cuts the socket.
      const startedAt = Date.now();
      let cutAfterMs: number | undefined;
      const watching = eventually(
        async () => {
          rssPeak = Math.max(rssPeak, rssKiB(s.pid!));
          const cut = metricValue(await metrics(), 'notifications_open_sockets') === openBefore - 1;
          if (cut) cutAfterMs ??= Date.now() - startedAt;
          return cut;
        },
        // Cut by the frame budget (4429), then by the 5 s close-handshake timeout when the client
        // does not answer the close frame; the heartbeat could not do it within 60 s here.
        15_000,
        'the flooding socket cut',
      );
      const payload = Buffer.alloc(125, 0x70);
      let sent = 0;
      while (sent < pings && cutAfterMs === undefined && flooder.socket.readyState === 1) {
        for (let i = 0; i < 2000; i++) flooder.socket.ping(payload);
        sent += 2000;
        await new Promise((resolve) => setImmediate(resolve));
      }
      await watching;

      console.log(
        `[red-team] ping flood from a socket that never reads: cut after ${cutAfterMs} ms and ` +
          `${sent} pings of 125 B (at most ${pings}); service VmRSS ${Math.round(rssBefore / 1024)} → ` +
          `peak ${Math.round(rssPeak / 1024)} MiB`,
      );
      expect(rssPeak - rssBefore).toBeLessThan(48 * 1024);
      bystander.send('ping', { ts: 1 });
      expect(await bystander.next('pong')).toEqual({ ts: 1 });
    });

    it('ping frames spend the frame budget (MAX_MESSAGES_PER_MINUTE): a reading client gets rate_limited and 4429', async () => {
      const pinger = await ready('polite-pinger');
      let pongs = 0;
      pinger.socket.on('pong', () => pongs++);
      // In rounds of 20 whose pongs come back, so that ws's own bound on unanswered pongs never
      // applies: only the budget of 100 frames a minute can close this socket.
      for (let round = 0; round < 10 && pinger.socket.readyState === 1; round++) {
        const want = pongs + 20;
        for (let i = 0; i < 20; i++) pinger.socket.ping();
        await eventually(
          () => pongs >= want || pinger.socket.readyState !== 1,
          5000,
          `pongs of round ${round}`,
        );
      }
      expect(await pinger.waitClosed()).toMatchObject({ code: 4429, reason: /too many messages/ });
      expect(pinger.all('error')).toEqual([{ code: 'rate_limited', message: expect.any(String) }]);
      expect(pongs).toBeLessThanOrEqual(101);
    });
  });

  describe('2. deep and large JSON bodies', () => {
    const readUrl = () => `${s.httpUrl}/v1/me/notifications/read`;
    const publishUrl = () => `${s.httpUrl}/v1/notifications`;

    it('a 6 KB body of 3,000 levels on the inbox answers 400 (not 500) and logs no stack', async () => {
      const token = await signToken('deep-reader');
      const body = `{"ids":${nestedArrays(3000)}}`;
      expect(body.length).toBeLessThan(6100);
      const answer = await postRaw(readUrl(), body, token);
      expect(answer).toMatchObject({ status: 400, body: { message: /nests deeper than/ } });
      expect(JSON.stringify(answer.body)).not.toMatch(STACK_LINE);
      // Deep payloads on publish too, with or without a valid key.
      const job = `{"userId":"u","type":"t","payload":{"a":${nestedArrays(3000)}}}`;
      expect((await postRaw(publishUrl(), job, API_KEY)).status).toBe(400);
      expect((await postRaw(publishUrl(), job, 'not-a-key')).status).toBe(400);
      expect(s.output()).not.toMatch(/RangeError|Maximum call stack/);
      // The same user's ordinary read still works.
      expect(await postRaw(readUrl(), '{"all":true}', token)).toMatchObject({
        status: 200,
        body: { unread: 0 },
      });
    });

    it('the inbox takes at most 100 KiB, publish still 1 MiB', async () => {
      const token = await signToken('big-reader');
      const ids = (n: number) => Array.from({ length: n }, (_, i) => `${i}`.padEnd(64, 'x'));
      // The largest valid read fits.
      expect(await postRaw(readUrl(), JSON.stringify({ ids: ids(1000) }), token)).toMatchObject({
        status: 200,
      });
      const tooBig = JSON.stringify({ ids: ids(1000), pad: 'x'.repeat(100 * 1024) });
      expect((await postRaw(readUrl(), tooBig, token)).status).toBe(413);
      // Publish reads up to 1 MiB (then the job contract decides), and refuses more.
      const job = (bytes: number) =>
        JSON.stringify({ userId: 'u', type: 't', pad: 'x'.repeat(bytes) });
      expect(await postRaw(publishUrl(), job(900 * 1024), API_KEY)).toMatchObject({
        status: 400,
        body: { fields: ['pad'] },
      });
      expect((await postRaw(publishUrl(), job(1024 * 1024), API_KEY)).status).toBe(413);
    });

    it('eight 1 MiB deep bodies at once leave /health/live answering', async () => {
      const token = await signToken('deep-flood');
      const deep = Buffer.from(`{"ids":${'['.repeat(512 * 1024 - 10)}`);
      const job = Buffer.from(`{"userId":"u","type":"t","payload":${'['.repeat(1024 * 1024 - 40)}`);
      const latencies: number[] = [];
      let probing = true;
      const probe = (async () => {
        while (probing) {
          const startedAt = performance.now();
          expect((await fetch(`${s.httpUrl}/health/live`)).status).toBe(200);
          latencies.push(performance.now() - startedAt);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      const startedAt = performance.now();
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          i % 2 === 0
            ? postRaw(readUrl(), deep, token)
            : postRaw(publishUrl(), job, i % 4 === 1 ? API_KEY : undefined),
        ),
      );
      const tookMs = performance.now() - startedAt;
      probing = false;
      await probe;
      const worst = Math.max(...latencies);
      console.log(
        `[red-team] 8 deep bodies of ~1 MiB (4 inbox, 4 publish): answered ${answers
          .map((a) => a.status)
          .join(
            ',',
          )} in ${Math.round(tookMs)} ms; /health/live worst ${Math.round(worst)} ms over ` +
          `${latencies.length} probes`,
      );
      for (const answer of answers) expect([400, 413]).toContain(answer.status);
      expect(worst).toBeLessThan(1000);
    });
  });

  describe('5. upgrades and slow requests', () => {
    it('an unauthenticated upgrade is answered 401 (bad origin: 403), never 101, and its connection closed at once', async () => {
      const cases: [string, string, string[], number][] = [
        ['no token', '/ws', [], 401],
        ['a garbage token', '/ws?token=garbage', [], 401],
        ['a garbage bearer subprotocol', '/ws', ['Sec-WebSocket-Protocol: bearer, x.y.z'], 401],
        [
          'a forged token',
          `/ws?token=${await signToken('intruder', { secret: 'x'.repeat(40) })}`,
          [],
          401,
        ],
        [
          'a foreign origin',
          `/ws?token=${await signToken('foreigner')}`,
          ['Origin: https://evil.example'],
          403,
        ],
      ];
      for (const [what, path, headers, status] of cases) {
        const answer = await rawExchange(s.port, upgradeHead(path, headers));
        expect(answer.status, what).toBe(status);
        expect(answer.answer, what).not.toContain('101 Switching Protocols');
        expect(answer.closedAfterMs, `${what}: closed by the server`).toBeDefined();
      }
      // A genuine one still gets its 101.
      const genuine = await rawExchange(
        s.port,
        upgradeHead(`/ws?token=${await signToken('genuine')}`),
        { timeoutMs: 1000 },
      );
      expect(genuine.status).toBe(101);
    });

    it('300 garbage upgrades that ignore everything are all answered and closed within seconds', async () => {
      const startedAt = Date.now();
      const answers = await Promise.all(
        Array.from({ length: 300 }, () =>
          rawExchange(s.port, upgradeHead('/ws?token=garbage'), { timeoutMs: 15_000 }),
        ),
      );
      const slowest = Math.max(...answers.map((a) => a.closedAfterMs ?? Number.POSITIVE_INFINITY));
      console.log(
        `[red-team] 300 garbage upgrades: all closed by the server within ${slowest} ms ` +
          `(${Date.now() - startedAt} ms in all)`,
      );
      expect(answers.every((a) => a.status === 401)).toBe(true);
      expect(slowest).toBeLessThan(10_000);
    });

    it('slow headers and slow bodies are cut by the server timeouts', async () => {
      const slowHeaders = rawExchange(s.port, 'GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n', {
        drip: () => `X-Slow-${Date.now()}: 1\r\n`,
        timeoutMs: 20_000,
      });
      const slowUpgrade = rawExchange(
        s.port,
        'GET /ws?token=garbage HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n',
        { drip: () => `X-Slow-${Date.now()}: 1\r\n`, timeoutMs: 20_000 },
      );
      const slowBody = rawExchange(
        s.port,
        [
          'POST /v1/notifications HTTP/1.1',
          'Host: 127.0.0.1',
          `Authorization: Bearer ${API_KEY}`,
          'Content-Type: application/json',
          'Content-Length: 100000',
          '',
          '{"userId":"slow","type":"t","pad":"',
        ].join('\r\n'),
        { drip: () => 'x', timeoutMs: 20_000 },
      );
      const [headers, upgrade, body] = await Promise.all([slowHeaders, slowUpgrade, slowBody]);
      console.log(
        `[red-team] slow headers cut after ${headers.closedAfterMs} ms (HTTP_HEADERS_TIMEOUT_MS ` +
          `3000), a slow upgrade after ${upgrade.closedAfterMs} ms, a slow body after ` +
          `${body.closedAfterMs} ms (HTTP_REQUEST_TIMEOUT_MS 6000)`,
      );
      expect(headers.closedAfterMs).toBeLessThan(8000);
      expect(upgrade.closedAfterMs).toBeLessThan(8000);
      expect(body.closedAfterMs).toBeLessThan(12_000);
      expect(headers.status).toBe(408);
      expect((await http('GET', `${s.httpUrl}/health/live`)).status).toBe(200);
    });
  });

  describe('6. metrics, headers, token lifetime, same origin', () => {
    it('METRICS_TOKEN makes /metrics private', async () => {
      expect((await http('GET', `${s.httpUrl}/metrics`)).status).toBe(401);
      expect((await http('GET', `${s.httpUrl}/metrics`, { token: API_KEY })).status).toBe(401);
      const scrape = await http('GET', `${s.httpUrl}/metrics`, { token: METRICS_TOKEN });
      expect(scrape.status).toBe(200);
      expect(scrape.body).toContain('notifications_open_sockets');
    });

    it('no response says X-Powered-By', async () => {
      for (const [method, path] of [
        ['GET', '/health/live'],
        ['GET', '/no-such-page'],
        ['POST', '/v1/notifications'],
        ['GET', '/metrics'],
      ]) {
        const response = await fetch(`${s.httpUrl}${path}`, { method });
        expect(response.headers.get('x-powered-by'), path).toBeNull();
      }
    });

    it('a token valid for more than a day (JWT_MAX_TOKEN_LIFETIME_SECONDS) is refused', async () => {
      const forever = await signToken('forever', { expiresIn: 1e12 });
      const socket = TestClient.connect(s.wsUrl, { token: forever });
      watched.track(socket);
      expect(await socket.waitClosed()).toMatchObject({
        status: 401,
        reason: /lifetime too long/,
      });
      const inbox = await http('GET', `${s.httpUrl}/v1/me/notifications`, { token: forever });
      expect(inbox.status).toBe(401);
      await (await ready('for-a-while')).close();
    });

    it('same-origin mode compares scheme, host and port', async () => {
      const token = await signToken('same-origin');
      const upgrade = async (origin: string, extra: string[] = []) =>
        (
          await rawExchange(
            s.port,
            upgradeHead(`/ws?token=${token}`, [`Origin: ${origin}`, ...extra]),
            {
              timeoutMs: 1000,
            },
          )
        ).status;
      // upgradeHead says `Host: 127.0.0.1`.
      expect(await upgrade('http://127.0.0.1')).toBe(101);
      expect(await upgrade('https://127.0.0.1')).toBe(403);
      expect(await upgrade('http://127.0.0.1:8080')).toBe(403);
      expect(await upgrade('http://127.0.0.2')).toBe(403);
      // Behind a proxy that terminates TLS and says so.
      expect(await upgrade('https://127.0.0.1', ['X-Forwarded-Proto: https'])).toBe(101);
      expect(await upgrade('http://127.0.0.1', ['X-Forwarded-Proto: https'])).toBe(403);
    });
  });

  describe('4. ill-formed ids', () => {
    /** Lone surrogates, and U+FFFD that UTF-8 encoding turns them into: all would share keys. */
    const illFormed = ['\ud800', '\udfff', '\ufffd', 'ill-\ud83d', 'ill-\ufffd'];

    it('no token, job, publish body or read id with a lone surrogate or U+FFFD gets in: two such ids never share an inbox', async () => {
      const wellFormed = await ready('ill-');
      for (const id of illFormed) {
        const token = await signToken(id);
        const socket = TestClient.connect(s.wsUrl, { token });
        watched.track(socket);
        await socket.waitClosed();
        expect(socket.frames, JSON.stringify(id)).toEqual([]);
        const inbox = await http('GET', `${s.httpUrl}/v1/me/notifications`, { token });
        expect(inbox.status, JSON.stringify(id)).toBe(401);
        expect(inbox.body.message).toMatch(/well-formed/);

        const published = await postRaw(
          `${s.httpUrl}/v1/notifications`,
          JSON.stringify({ userIds: ['ill-', id], type: 'ill.formed' }),
          API_KEY,
        );
        expect(published).toMatchObject({ status: 400, body: { fields: ['userIds'] } });
        const deduped = await postRaw(
          `${s.httpUrl}/v1/notifications`,
          JSON.stringify({ userId: 'ill-', type: 'ill.formed', dedupeKey: id }),
          API_KEY,
        );
        expect(deduped).toMatchObject({ status: 400, body: { fields: ['dedupeKey'] } });
        const read = await postRaw(
          `${s.httpUrl}/v1/me/notifications/read`,
          JSON.stringify({ ids: [id] }),
          await signToken('ill-'),
        );
        expect(read.status).toBe(400);
        wellFormed.send('read', { ids: [id] });
        expect(await wellFormed.next('error')).toMatchObject({ code: 'invalid_data' });
      }
      // Invalid UTF-8 bytes in a body decode to U+FFFD: refused as well.
      const bytes = Buffer.concat([
        Buffer.from('{"userId":"ill-'),
        Buffer.from([0xed, 0xa0, 0x80]),
        Buffer.from('","type":"ill.formed"}'),
      ]);
      expect((await postRaw(`${s.httpUrl}/v1/notifications`, bytes, API_KEY)).status).toBe(400);

      // Jobs from a plain BullMQ producer fail at once, naming the field.
      const connection = redisOptionsFromUrl(inject('redisUrl'));
      const producer = new Queue(queueName, { connection });
      try {
        for (const id of illFormed) {
          const job = await producer.add(
            'notify',
            { userId: id, type: 'ill.formed' },
            { attempts: 3, backoff: { type: 'fixed', delay: 100 } },
          );
          expect(await failedReasonOf(producer, job, 10_000)).toMatch(/userId must be/);
          expect((await producer.getJob(job.id!))?.attemptsMade).toBe(1);
        }
      } finally {
        await producer.close();
      }
      // The well-formed neighbour got nothing and its inbox is empty.
      const inbox = await http('GET', `${s.httpUrl}/v1/me/notifications`, {
        token: await signToken('ill-'),
      });
      expect(inbox.body).toMatchObject({ items: [], unread: 0 });
      expect(wellFormed.all('notification')).toEqual([]);
    });
  });
});

describe('3. /dev/* outside production (e2e)', { timeout: 60_000 }, () => {
  const devService = (env: Record<string, string>) =>
    startService({ REDIS_URL: inject('redisUrl'), ...isolatedEnv(), ...env });

  it('a service with the operator’s own JWT_SECRET and no NODE_ENV mints no tokens, and says why', async () => {
    const dev = await devService({ JWT_SECRET: TEST_JWT_SECRET });
    try {
      const minted = await http('POST', `${dev.httpUrl}/dev/token`, { body: { name: 'admin' } });
      expect(minted.status).toBe(404);
      expect(minted.body.token).toBeUndefined();
      const token = await signToken('someone');
      expect((await http('POST', `${dev.httpUrl}/dev/notify`, { token, body: {} })).status).toBe(
        404,
      );
      expect((await http('GET', `${dev.httpUrl}/demo/config`)).body).toEqual({
        devEndpoints: false,
      });
      expect(dev.output()).toContain('POST /dev/token and /dev/notify are off');
    } finally {
      await dev.stop();
    }
  });

  it('NODE_ENV=test with an operator secret: no /dev/token either', async () => {
    const t = await startTestApp({ NODE_ENV: 'test' });
    try {
      expect((await http('POST', `${t.httpUrl}/dev/token`, { body: { name: 'x' } })).status).toBe(
        404,
      );
    } finally {
      await t.close();
    }
  });

  it('DEV_TOKENS=1 serves it with the operator’s secret, and the log says so loudly', async () => {
    const dev = await devService({ JWT_SECRET: TEST_JWT_SECRET, DEV_TOKENS: '1' });
    try {
      const minted = await http('POST', `${dev.httpUrl}/dev/token`, { body: { name: 'ada' } });
      expect(minted.status).toBe(200);
      await (await TestClient.ready(dev.wsUrl, { token: minted.body.token })).close();
      expect(dev.output()).toMatch(
        /!!! DEV_TOKENS=1: POST \/dev\/token signs a token for ANY user/,
      );
    } finally {
      await dev.stop();
    }
  });

  it('with the built-in development secret it is served, and a deep or large body gets a 4xx', async () => {
    const t = await startTestApp({ NODE_ENV: 'development', JWT_SECRET: '' });
    try {
      const url = `${t.httpUrl}/dev/token`;
      expect((await http('POST', url, { body: { name: 'ada' } })).status).toBe(200);
      const deep = await postRaw(url, `{"name":${nestedArrays(3000)}}`);
      expect(deep).toMatchObject({ status: 400, body: { message: /nests deeper than/ } });
      const large = await postRaw(url, JSON.stringify({ name: 'x'.repeat(200 * 1024) }));
      expect(large.status).toBe(413);
    } finally {
      await t.close();
    }
  });
});
