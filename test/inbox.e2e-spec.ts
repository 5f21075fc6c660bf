import type { Job } from 'bullmq';
import { http } from './kit/http.mjs';
import { startTestApp, type TestApp } from './kit/test-app.js';
import { useGatewayOnOwnRedis } from './kit/own-redis-gateway.js';
import { eventually } from './kit/timing.mjs';
import { signToken } from './kit/tokens.mjs';
import { closeAfterEach, TestClient } from './kit/ws-client.js';

describe('HTTP inbox (e2e)', () => {
  let t: TestApp;
  const track = closeAfterEach();

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  async function store(userId: string, count: number, type = 'inbox.item'): Promise<string[]> {
    const ids: string[] = [];
    for (let n = 0; n < count; n++) {
      // One at a time, so the store order is the order of n.
      const job: Job = await t.producer.add('notify', { userId, type, payload: { n } });
      const result = (await job.waitUntilFinished(t.queueEvents, 5000)) as { ids: string[] };
      ids.push(result.ids[0]);
    }
    return ids;
  }

  const inbox = (token: string, query = '') =>
    http('GET', `${t.httpUrl}/v1/me/notifications${query}`, { token });
  const read = (token: string, body: unknown) =>
    http('POST', `${t.httpUrl}/v1/me/notifications/read`, { token, body });

  it('answers 401 without a valid token', async () => {
    expect((await http('GET', `${t.httpUrl}/v1/me/notifications`)).status).toBe(401);
    const bad = await inbox('not-a-jwt');
    expect(bad.status).toBe(401);
    expect(JSON.stringify(bad.body)).not.toMatch(/at .*\.js/);
    const expired = await inbox(
      await signToken('x', { expiresIn: Math.floor(Date.now() / 1000) - 60 }),
    );
    expect(expired).toMatchObject({ status: 401, body: { message: 'token expired' } });
    expect((await read('nope', { all: true })).status).toBe(401);
  });

  it('pages newest first with no overlap and no gap', async () => {
    const token = await signToken('pager');
    const ids = await store('pager', 25);
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?limit=10${cursor ? `&before=${cursor}` : ''}`;
      const { status, body } = await inbox(token, query);
      expect(status).toBe(200);
      expect(body.unread).toBe(25);
      pages.push(body.items.map((item: { id: string }) => item.id));
      cursor = body.nextCursor;
    } while (cursor);
    expect(pages.map((page) => page.length)).toEqual([10, 10, 5]);
    expect(pages.flat()).toEqual([...ids].reverse());

    const { body } = await inbox(token);
    expect(body.items).toHaveLength(20);
    expect(body.items[0]).toMatchObject({
      id: ids[24],
      type: 'inbox.item',
      payload: { n: 24 },
      read: false,
    });
    expect(typeof body.items[0].createdAt).toBe('string');
  });

  it('answers 400 naming the field for a bad query or body', async () => {
    const token = await signToken('bad-input');
    for (const [query, field] of [
      ['?limit=0', 'limit'],
      ['?limit=101', 'limit'],
      ['?limit=abc', 'limit'],
      ['?foo=1', 'foo'],
      [`?before=${'x'.repeat(65)}`, 'before'],
    ]) {
      const { status, body } = await inbox(token, query);
      expect(status, query).toBe(400);
      expect(JSON.stringify(body.message), query).toContain(field);
    }
    for (const [payload, field] of [
      [{}, 'ids'],
      [{ ids: 'x' }, 'ids'],
      [{ ids: [] }, 'ids'],
      [{ all: false }, 'all'],
      [{ ids: ['a'], all: true }, 'all'],
      [{ all: true, extra: 1 }, 'extra'],
    ] as const) {
      const { status, body } = await read(token, payload);
      expect(status, JSON.stringify(payload)).toBe(400);
      expect(JSON.stringify(body.message)).toContain(field);
    }
  });

  it('marks read over HTTP: every open tab is told, twice counts once, other users are untouched', async () => {
    const token = await signToken('http-reader');
    const ids = await store('http-reader', 3);
    const [otherId] = await store('bystander', 1);
    const tabs = [
      await TestClient.ready(t.wsUrl, { token }),
      await TestClient.ready(t.wsUrl, { token }),
    ];
    track(tabs);

    expect(await read(token, { ids: [ids[0]] })).toEqual({ status: 200, body: { unread: 2 } });
    for (const tab of tabs) expect(await tab.next('unread')).toEqual({ unread: 2 });
    expect(await read(token, { ids: [ids[0]] })).toEqual({ status: 200, body: { unread: 2 } });
    expect(await read(token, { ids: [otherId] })).toEqual({ status: 200, body: { unread: 2 } });
    const { body } = await inbox(await signToken('bystander'));
    expect(body).toMatchObject({ unread: 1, items: [{ id: otherId, read: false }] });

    const page = await inbox(token);
    expect(page.body.items.map((item: { read: boolean }) => item.read)).toEqual([
      false,
      false,
      true,
    ]);
    expect(await read(token, { all: true })).toEqual({ status: 200, body: { unread: 0 } });
    for (const tab of tabs) expect(await tab.next('unread')).toEqual({ unread: 0 });
    expect(await read(token, { all: true })).toEqual({ status: 200, body: { unread: 0 } });
  });

  it('keeps a dedupeKey after BullMQ removed the first job', async () => {
    const token = await signToken('dedupe-later');
    const first = await t.producer.add(
      'notify',
      { userId: 'dedupe-later', type: 'invoice.sent', dedupeKey: 'invoice-9' },
      { removeOnComplete: true },
    );
    await first.waitUntilFinished(t.queueEvents, 5000);
    expect(await t.producer.getJob(first.id!)).toBeUndefined();
    const second = await t.producer.add('notify', {
      userId: 'dedupe-later',
      type: 'invoice.sent',
      dedupeKey: 'invoice-9',
    });
    expect(await second.waitUntilFinished(t.queueEvents, 5000)).toMatchObject({ stored: 0 });
    const { body } = await inbox(token);
    expect(body.items).toHaveLength(1);
    expect(body.unread).toBe(1);
  });
});

// Found by the issue-17 black-box review (the inbox routes predate it): each answered 500 and logged
// a MaxRetriesPerRequestError stack while Redis was down, where publish and presence answer 503.
describe('the HTTP inbox while Redis is down (e2e)', { timeout: 60_000 }, () => {
  const outage = useGatewayOnOwnRedis();

  it('answers 503 with Retry-After on every route, then 200 once Redis is back', async () => {
    const token = await signToken('inbox-down');
    const routes: [string, string, unknown?][] = [
      ['GET', '/v1/me/notifications'],
      ['GET', '/v1/me/counts'],
      ['POST', '/v1/me/notifications/mark', { as: 'read', all: true }],
      ['POST', '/v1/me/notifications/read', { all: true }],
    ];
    const call = ([method, path, body]: [string, string, unknown?]) =>
      fetch(`${outage.gateway.httpUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    for (const route of routes) expect((await call(route)).status).toBe(200);

    await outage.stopRedis();
    for (const route of routes) {
      const answer = await eventually(
        async () => {
          const response = await call(route);
          return response.status !== 200 && response;
        },
        10_000,
        `${route[1]} refused`,
      );
      expect(answer.status, route[1]).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('1');
    }
    expect(outage.gateway.output()).not.toMatch(/ExceptionsHandler|MaxRetriesPerRequestError/);

    await outage.restartRedis();
    for (const route of routes) {
      await eventually(async () => (await call(route)).status === 200, 15_000, `${route[1]} 200`);
    }
  });
});
