import { BullModule } from '@nestjs/bullmq';
import { Test } from '@nestjs/testing';
import { NotificationsModule, PresenceService } from '@rtnotify/nestjs';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { http, metricValue, postRaw, scrapeMetrics } from './kit/http.mjs';
import { startRedis, type RedisServer } from './kit/redis.mjs';
import { redisOptionsFromUrl } from '../src/redis/redis-url.js';
import { startService, type ServiceProcess } from './kit/service.mjs';
import { useGatewayOnOwnRedis } from './kit/own-redis-gateway.js';
import { eventually } from './kit/timing.mjs';
import { TEST_JWT_SECRET, signToken } from './kit/tokens.mjs';
import { TestClient } from './kit/ws-client.js';

const API_KEY = 'presence-key-0123456789';
/** Short, so that a dead gateway's entries lapse quickly (PING_INTERVAL_MS). */
const PING_INTERVAL_MS = 2000;

/**
 * Presence across gateways: the built service as processes on one real Redis, real ws clients, the
 * HTTP route asked of a gateway other than the one holding the sockets.
 */
describe('presence across gateways (e2e)', { timeout: 60_000 }, () => {
  let redis: RedisServer;
  let inspect: Redis;
  let env: Record<string, string>;
  let gateways: ServiceProcess[];
  const open: TestClient[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    inspect = new Redis(redis.url);
    const id = randomBytes(3).toString('hex');
    env = {
      NODE_ENV: 'production',
      JWT_SECRET: TEST_JWT_SECRET,
      REDIS_URL: redis.url,
      NOTIFY_QUEUE: `presence-${id}`,
      KEY_PREFIX: `presence-${id}`,
      API_KEYS: API_KEY,
      PING_INTERVAL_MS: String(PING_INTERVAL_MS),
    };
    gateways = await Promise.all([0, 1].map(() => startService({ ...env, ROLE: 'gateway' })));
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((client) => client.close()));
  });

  afterAll(async () => {
    inspect?.disconnect();
    await Promise.all((gateways ?? []).map((gateway) => gateway.stop('SIGKILL')));
    await redis?.stop();
  });

  const user = (name: string) => `${name}-${randomBytes(3).toString('hex')}`;
  const presenceKey = (userId: string) => `${env.KEY_PREFIX}:{${userId}}:p`;

  async function tab(gateway: ServiceProcess, userId: string): Promise<TestClient> {
    const client = await TestClient.ready(gateway.wsUrl, { token: await signToken(userId) });
    open.push(client);
    return client;
  }

  async function closeTab(client: TestClient): Promise<void> {
    open.splice(open.indexOf(client), 1);
    await client.close();
  }

  /** GET /v1/presence on `gateway` (the first by default) with the API key (null: none). */
  function presence(query: string, gateway = gateways[0], token: string | null = API_KEY) {
    return http('GET', `${gateway.httpUrl}/v1/presence?${query}`, token ? { token } : {});
  }

  async function isOnline(userId: string, gateway = gateways[0]): Promise<boolean> {
    const { status, body } = await presence(`userIds=${encodeURIComponent(userId)}`, gateway);
    expect(status).toBe(200);
    return body.online[userId] as boolean;
  }

  const becomes = (userId: string, online: boolean, what: string) =>
    eventually(async () => (await isOnline(userId)) === online, 5000, what);

  it('is true while a tab is open (asked of another gateway) and false once it closes', async () => {
    const ada = user('ada');
    const nobody = user('nobody');
    const client = await tab(gateways[1], ada);

    await becomes(ada, true, 'online');
    const { status, body } = await presence(`userIds=${ada},${nobody}`);
    expect(status).toBe(200);
    expect(body).toEqual({ online: { [ada]: true, [nobody]: false } });

    await closeTab(client);
    await becomes(ada, false, 'offline once the tab closed');
    expect(await inspect.exists(presenceKey(ada))).toBe(0);
  });

  /** The deadlines of the user's entries (epoch ms), as the gateways wrote them. */
  async function deadlines(userId: string): Promise<number[]> {
    const flat = await inspect.zrange(presenceKey(userId), 0, -1, 'WITHSCORES');
    return flat.filter((_, i) => i % 2 === 1).map(Number);
  }

  it('stays true past the first deadline: the heartbeat refreshes the entry', async () => {
    const gus = user('gus');
    await tab(gateways[1], gus);
    await becomes(gus, true, 'online');
    const [first] = await deadlines(gus);
    expect(first - Date.now()).toBeLessThanOrEqual(PING_INTERVAL_MS);

    await eventually(
      () => Date.now() > first + 100,
      PING_INTERVAL_MS + 1000,
      'first deadline past',
    );

    expect(await isOnline(gus)).toBe(true);
    // Read together: a refresh may fall between two separate reads.
    const [[, entry], [, expiresAt]] = (await inspect
      .multi()
      .zrange(presenceKey(gus), 0, -1, 'WITHSCORES')
      .pexpiretime(presenceKey(gus))
      .exec()) as [[null, string[]], [null, number]];
    expect(Number(entry[1])).toBeGreaterThan(first);
    expect(expiresAt).toBe(Number(entry[1]));
  });

  it('stays true while a second tab on the same gateway is open', async () => {
    const bob = user('bob');
    const first = await tab(gateways[1], bob);
    const second = await tab(gateways[1], bob);
    await becomes(bob, true, 'online');

    await closeTab(first);
    await eventually(
      async () =>
        metricValue(await scrapeMetrics(gateways[1].httpUrl), 'notifications_open_sockets') === 1,
      5000,
      'the gateway saw the first tab close',
    );
    expect(await isOnline(bob)).toBe(true);

    await closeTab(second);
    await becomes(bob, false, 'offline once the last tab closed');
  });

  it('stays true while a tab on another gateway is open', async () => {
    const cy = user('cy');
    const first = await tab(gateways[0], cy);
    await tab(gateways[1], cy);
    await eventually(async () => (await inspect.zcard(presenceKey(cy))) === 2, 5000, 'two entries');
    expect(await isOnline(cy)).toBe(true);

    await closeTab(first);
    await eventually(async () => (await inspect.zcard(presenceKey(cy))) === 1, 5000, 'one entry');

    expect(await isOnline(cy)).toBe(true);
    expect(await isOnline(cy, gateways[1])).toBe(true);
  });

  it('flips to false within one ping interval when the gateway holding the socket is SIGKILLed', async () => {
    const victim = await startService({ ...env, ROLE: 'gateway' });
    const dee = user('dee');
    const client = await TestClient.ready(victim.wsUrl, { token: await signToken(dee) });
    await becomes(dee, true, 'online');
    // Killed after a refresh by the heartbeat, not right after the first write.
    const [first] = await deadlines(dee);
    await eventually(
      async () => (await deadlines(dee))[0] > first,
      2 * PING_INTERVAL_MS,
      'a refresh',
    );

    const killedAt = Date.now();
    await victim.stop('SIGKILL');
    const goneAt = Date.now();
    let lastTrueAskedAt = killedAt;
    let falseAnsweredAt = 0;
    await eventually(
      async () => {
        const askedAt = Date.now();
        if (await isOnline(dee)) {
          lastTrueAskedAt = askedAt;
          return false;
        }
        falseAnsweredAt = Date.now();
        return true;
      },
      PING_INTERVAL_MS + 5000,
      'offline after the kill',
    );
    await client.waitClosed(5000);

    const flip = { lastTrue: lastTrueAskedAt - killedAt, firstFalse: falseAnsweredAt - killedAt };
    console.log(
      `presence after SIGKILL (ping interval ${PING_INTERVAL_MS} ms): last "true" asked ` +
        `${flip.lastTrue} ms after the kill, first "false" answered ${flip.firstFalse} ms after it ` +
        `(the process was gone ${goneAt - killedAt} ms after the kill)`,
    );
    // A "true" was asked before the deadline of the last refresh, made before the process was gone.
    expect(lastTrueAskedAt - goneAt).toBeLessThan(PING_INTERVAL_MS);
    // The answer flips by itself within the interval (plus the time the polling takes).
    expect(flip.firstFalse).toBeLessThan(PING_INTERVAL_MS + 1000);
  });

  it('removes the entries of a gateway that shuts down gracefully at once', async () => {
    // A long ping interval: were the entry left to lapse, it would outlive the test.
    const leaving = await startService({ ...env, ROLE: 'gateway', PING_INTERVAL_MS: '60000' });
    const eve = user('eve');
    await TestClient.ready(leaving.wsUrl, { token: await signToken(eve) });
    await becomes(eve, true, 'online');

    expect(await leaving.stop('SIGTERM')).toBe(0);

    expect(await isOnline(eve)).toBe(false);
    expect(await inspect.exists(presenceKey(eve))).toBe(0);
  });

  it('is what PresenceService answers in a host of its own (no gateway, route turned off)', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        BullModule.forRoot({ connection: redisOptionsFromUrl(redis.url) }),
        NotificationsModule.forRoot({
          keyPrefix: env.KEY_PREFIX,
          queueName: env.NOTIFY_QUEUE,
          gateway: false,
          worker: false,
          apiKeys: [API_KEY],
          http: { inbox: false, presence: false },
        }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    try {
      const sut = app.get(PresenceService);
      const hal = user('hal');
      const client = await tab(gateways[1], hal);
      await eventually(() => sut.isOnline(hal), 5000, 'online through the service');
      expect(await sut.online([hal, 'nobody'])).toEqual({ [hal]: true, nobody: false });

      await closeTab(client);
      await eventually(async () => !(await sut.isOnline(hal)), 5000, 'offline');
      const { port } = app.getHttpServer().address() as { port: number };
      const route = await http('GET', `http://127.0.0.1:${port}/v1/presence?userIds=a`, {
        token: API_KEY,
      });
      expect(route.status).toBe(404);
      const post = await http('POST', `http://127.0.0.1:${port}/v1/presence`, {
        token: API_KEY,
        body: { userIds: ['a'] },
      });
      expect(post.status).toBe(404);
    } finally {
      await app.close();
    }
  });

  describe('GET /v1/presence', () => {
    it('answers 401 without an API key or with an unknown one', async () => {
      expect(await presence('userIds=a', gateways[0], null)).toMatchObject({
        status: 401,
        body: { message: 'missing API key (Authorization: Bearer <key>)' },
      });
      expect(await presence('userIds=a', gateways[0], 'not-a-key-of-ours-at-all')).toMatchObject({
        status: 401,
        body: { message: 'unknown API key' },
      });
    });

    it.each([
      ['no userIds', '', 'userIds is required: a comma-separated list of user ids'],
      ['an empty list', 'userIds=', 'userIds must list at least 1 user id'],
      [
        '1,001 ids',
        `userIds=${Array.from({ length: 1001 }, (_, i) => `u${i}`).join(',')}`,
        'userIds must list at most 1000 user ids',
      ],
      ['an empty id', 'userIds=a,,b', 'each value in userIds must be 1-128 characters long'],
      [
        'an id of 129 characters',
        `userIds=${'x'.repeat(129)}`,
        'each value in userIds must be 1-128 characters long',
      ],
      [
        'an id that is not well-formed',
        'userIds=a%EF%BF%BD',
        'each value in userIds must be well-formed Unicode (no lone surrogates, no U+FFFD)',
      ],
      ['an unknown parameter', 'userIds=a&since=1', 'property since should not exist'],
    ])('answers 400 for %s, saying why', async (_, query, message) => {
      const { status, body } = await presence(query);

      expect(status).toBe(400);
      expect(body.message).toContain(message);
    });

    it('answers up to 1,000 ids, listed with commas or as repeated parameters', async () => {
      const fay = user('fay');
      await tab(gateways[1], fay);
      await becomes(fay, true, 'online');
      const ids = [fay, ...Array.from({ length: 999 }, (_, i) => `off-${i}`)];

      const all = await presence(`userIds=${ids.join(',')}`);
      expect(all.status).toBe(200);
      expect(Object.keys(all.body.online)).toHaveLength(1000);
      expect(Object.values(all.body.online).filter(Boolean)).toEqual([true]);
      expect(all.body.online[fay]).toBe(true);

      const repeated = await presence(`userIds=${fay}&userIds=off-1,off-2`);
      expect(repeated.body).toEqual({ online: { [fay]: true, 'off-1': false, 'off-2': false } });
      // Percent-encoded, as URLSearchParams writes it.
      const encoded = await presence(new URLSearchParams({ userIds: `${fay},x y` }).toString());
      expect(encoded.body).toEqual({ online: { [fay]: true, 'x y': false } });
    });
  });

  describe('POST /v1/presence', () => {
    /** POST /v1/presence on the first gateway: `text` as is, with the API key (null: none). */
    function postPresence(
      text: string,
      token: string | null = API_KEY,
      contentType = 'application/json',
    ) {
      return postRaw(`${gateways[0].httpUrl}/v1/presence`, text, token ?? undefined, contentType);
    }

    /** `id` with every character written as a `\uXXXX` escape: the largest JSON of that id. */
    const escaped = (id: string) =>
      Array.from(
        { length: id.length },
        (_, i) => `\\u${id.charCodeAt(i).toString(16).padStart(4, '0')}`,
      ).join('');

    it('answers 1,000 ids of 128 characters, the one with an open socket true', async () => {
      const longId = (name: string) => name.padEnd(128, '-');
      const fay = longId(user('fay'));
      await tab(gateways[1], fay);
      await becomes(fay, true, 'online');
      const ids = [fay, ...Array.from({ length: 999 }, (_, i) => longId(`off-${i}`))];
      const text = JSON.stringify({ userIds: ids });
      // What a GET could not carry: a URL this long is refused with 431 by the header limit.
      expect(text.length).toBeGreaterThan(16 * 1024);

      const { status, body } = await postPresence(text);

      expect(status).toBe(200);
      expect(Object.keys(body.online)).toHaveLength(1000);
      expect(Object.values(body.online).filter(Boolean)).toEqual([true]);
      expect(body.online[fay]).toBe(true);
      console.log(`POST /v1/presence with 1,000 ids of 128 characters: ${text.length} bytes`);
    });

    it('takes the largest valid body: every character of 1,000 ids of 128 escaped (771,013 bytes)', async () => {
      const ids = Array.from({ length: 1000 }, (_, i) => `${i}`.padStart(4, '0').padEnd(128, 'é'));
      const text = `{"userIds":[${ids.map((id) => `"${escaped(id)}"`).join(',')}]}`;
      expect(Buffer.byteLength(text)).toBe(771_013);

      const { status, body } = await postPresence(text);

      expect(status).toBe(200);
      expect(Object.keys(body.online)).toEqual(ids);
      expect(Object.values(body.online).every((online) => online === false)).toBe(true);
    });

    it('answers 401 without an API key or with an unknown one, whatever the body', async () => {
      expect(await postPresence('{"userIds":["a"]}', null)).toMatchObject({
        status: 401,
        body: { message: 'missing API key (Authorization: Bearer <key>)' },
      });
      expect(await postPresence('{"userIds":["a"]}', 'not-a-key-of-ours-at-all')).toMatchObject({
        status: 401,
        body: { message: 'unknown API key' },
      });
      expect((await postPresence('userIds=a', null, 'text/plain')).status).toBe(401);
    });

    const many = (count: number) => Array.from({ length: count }, (_, i) => `u${i}`);
    it.each([
      ['no userIds', {}, ['userIds must be a JSON array of user ids']],
      ['userIds not an array', { userIds: 'a,b' }, ['userIds must be a JSON array of user ids']],
      ['userIds null', { userIds: null }, ['userIds must be a JSON array of user ids']],
      ['an empty list', { userIds: [] }, ['userIds must list at least 1 user id']],
      ['1,001 ids', { userIds: many(1001) }, ['userIds must list at most 1000 user ids']],
      ['an id that is a number', { userIds: ['a', 1] }, ['each value in userIds must be a string']],
      ['an id that is a list', { userIds: [['a']] }, ['each value in userIds must be a string']],
      [
        'an empty id',
        { userIds: ['a', ''] },
        ['each value in userIds must be 1-128 characters long'],
      ],
      [
        'an id of 129 characters',
        { userIds: ['x'.repeat(129)] },
        ['each value in userIds must be 1-128 characters long'],
      ],
      [
        'an id that is not well-formed',
        { userIds: ['a\uFFFD'] },
        ['each value in userIds must be well-formed Unicode (no lone surrogates, no U+FFFD)'],
      ],
      [
        'an id with a lone surrogate',
        { userIds: ['a\uD800'] },
        ['each value in userIds must be well-formed Unicode (no lone surrogates, no U+FFFD)'],
      ],
      ['an unknown field', { userIds: ['a'], since: 1 }, ['property since should not exist']],
      [
        'an inherited name',
        { userIds: ['a'], constructor: 1 },
        ['property constructor should not exist'],
      ],
    ])('answers 400 for %s, saying why', async (_, data, messages) => {
      const { status, body } = await postPresence(JSON.stringify(data));

      expect(status).toBe(400);
      expect(body.message).toEqual(messages);
    });

    it.each([
      [
        'a JSON array',
        '["a"]',
        400,
        ['property 0 should not exist', 'userIds must be a JSON array of user ids'],
      ],
      ['no body', '', 400, ['userIds must be a JSON array of user ids']],
      ['invalid JSON', '{"userIds":', 400, 'Unexpected end of JSON input'],
      [
        'ids nested deeper than 4 levels',
        '{"userIds":[[[["a"]]]]}',
        400,
        'JSON body nests deeper than 4 levels',
      ],
      [
        '__proto__',
        '{"userIds":["a"],"__proto__":{"x":1}}',
        400,
        ['property __proto__ should not exist'],
      ],
      [
        'a body over 1 MiB',
        `{"userIds":["a"]${' '.repeat(1024 * 1024)}}`,
        413,
        'Request body is too large',
      ],
    ])('answers %s with %i, saying why', async (_, text, status, message) => {
      const answer = await postPresence(text);

      expect(answer).toMatchObject({ status, body: { message } });
    });

    it.each([
      ['text/plain', '{"userIds":["a"]}'],
      ['application/x-www-form-urlencoded', 'userIds=a'],
    ])('answers 415 for a body of type "%s"', async (contentType, text) => {
      expect(await postPresence(text, API_KEY, contentType)).toMatchObject({
        status: 415,
        body: { message: 'the body must be JSON (Content-Type: application/json)' },
      });
    });

    it('answers 415 for a body whose Content-Type is empty (not a media type at all)', async () => {
      expect(await postPresence('{"userIds":["a"]}', API_KEY, '')).toMatchObject({
        status: 415,
        body: { message: 'Unsupported Media Type' },
      });
    });

    it('answers 415 for JSON in another charset than UTF-8', async () => {
      expect(
        await postPresence('{"userIds":["a"]}', API_KEY, 'application/json; charset=utf-16'),
      ).toMatchObject({ status: 415, body: { message: 'JSON bodies must be UTF-8' } });
    });
  });
});

describe('GET and POST /v1/presence while Redis is down (e2e)', { timeout: 60_000 }, () => {
  const outage = useGatewayOnOwnRedis({ API_KEYS: API_KEY });

  it('answers 503 with Retry-After, fast, then 200 and fresh entries once Redis is back', async () => {
    const url = `${outage.gateway.httpUrl}/v1/presence`;
    const authorization = `Bearer ${API_KEY}`;
    const ask = (method: 'GET' | 'POST') =>
      method === 'GET'
        ? fetch(`${url}?userIds=a`, { headers: { authorization } })
        : fetch(url, {
            method: 'POST',
            headers: { authorization, 'content-type': 'application/json' },
            body: JSON.stringify({ userIds: ['a'] }),
          });
    for (const method of ['GET', 'POST'] as const) expect((await ask(method)).status).toBe(200);

    await outage.stopRedis();
    for (const method of ['GET', 'POST'] as const) {
      const started = Date.now();
      const answer = await eventually(
        async () => {
          const response = await ask(method);
          return response.status === 503 && response;
        },
        10_000,
        `${method} 503`,
      );
      expect(answer.headers.get('retry-after')).toBe('1');
      expect(await answer.json()).toMatchObject({
        statusCode: 503,
        message: 'notifications unavailable: Redis is unreachable',
      });
      expect(Date.now() - started).toBeLessThan(6000);
    }
    expect(outage.gateway.output()).not.toMatch(/ExceptionsHandler|MaxRetriesPerRequestError/);

    await outage.restartRedis();
    for (const method of ['GET', 'POST'] as const) {
      await eventually(
        async () => (await ask(method)).status === 200,
        15_000,
        `${method} 200 again`,
      );
    }
    // The gateway writes entries again on the new Redis (its scripts loaded anew).
    const client = await TestClient.ready(outage.gateway.wsUrl, {
      token: await signToken('after'),
    });
    await eventually(
      async () => {
        const { body } = await http('GET', `${outage.gateway.httpUrl}/v1/presence?userIds=after`, {
          token: API_KEY,
        });
        return body.online?.after === true;
      },
      5000,
      'online after the restart',
    );
    await client.close();
  });
});
