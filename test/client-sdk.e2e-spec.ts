import {
  connect,
  type ClientErrorEvent,
  type ConnectOptions,
  type NotificationEvent,
  type NotificationsClient,
  type ReadyEvent,
  type StateEvent,
} from '@rtnotify/client';
import { ConnectionRegistry } from '@rtnotify/nestjs';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { startRedis, type RedisServer } from './kit/redis.mjs';
import { startTestApp, type TestApp } from './kit/test-app.js';
import { signToken } from './kit/tokens.mjs';

/** Everything a client emits, with waits on it that time out instead of sleeping. */
class Recorder {
  readonly notifications: NotificationEvent[] = [];
  readonly readies: ReadyEvent[] = [];
  readonly truncations: ReadyEvent[] = [];
  readonly states: StateEvent[] = [];
  readonly errors: ClientErrorEvent[] = [];
  readonly unread: number[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(readonly client: NotificationsClient) {
    const wake = () => this.waiters.forEach((waiter) => waiter());
    client.on('notification', (event) => (this.notifications.push(event), wake()));
    client.on('ready', (event) => (this.readies.push(event), wake()));
    client.on('truncated', (event) => (this.truncations.push(event), wake()));
    client.on('state', (event) => (this.states.push(event), wake()));
    client.on('error', (event) => (this.errors.push(event), wake()));
    client.on('unread', (event) => (this.unread.push(event.unread), wake()));
    client.on('counts', wake);
  }

  ids(): string[] {
    return this.notifications.map((event) => event.notification.id);
  }

  async until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.waiters.add(done);
      });
    }
  }

  readyCount(count: number): Promise<void> {
    return this.until(() => this.readies.length >= count, `ready #${count}`);
  }

  received(count: number): Promise<void> {
    return this.until(() => this.notifications.length >= count, `${count} notifications`);
  }

  finalState(): Promise<void> {
    return this.until(() => this.states.some((state) => state.final), 'a final state');
  }
}

/** A `ws` WebSocket that counts how often the SDK opened one. */
function countingWebSocket(headers: Record<string, string> = {}) {
  const opened: string[] = [];
  class Counting extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers, perMessageDeflate: false });
      opened.push(url);
    }
  }
  return { WebSocket: Counting, opened };
}

describe('the client SDK from Node (e2e)', () => {
  let t: TestApp;
  const clients: NotificationsClient[] = [];

  beforeAll(async () => {
    // Browsers must come from app.example; clients with no Origin (like Node's) are let in.
    t = await startTestApp({ ALLOWED_ORIGINS: 'https://app.example' });
  });
  afterEach(() => {
    clients.splice(0).forEach((client) => client.close());
  });
  afterAll(async () => {
    await t.close();
  });

  function start(options: Partial<ConnectOptions> & Pick<ConnectOptions, 'token'>): Recorder {
    const client = connect({
      url: t.wsUrl,
      WebSocket,
      backoff: { baseMs: 50, capMs: 400 },
      ...options,
    });
    clients.push(client);
    return new Recorder(client);
  }

  async function store(userId: string, count: number, from = 0): Promise<string[]> {
    const ids: string[] = [];
    for (let n = from; n < from + count; n++) {
      const job = await t.producer.add('notify', { userId, type: 'sdk.item', payload: { n } });
      ids.push(((await job.waitUntilFinished(t.queueEvents, 5000)) as { ids: string[] }).ids[0]);
    }
    return ids;
  }

  /** Closes every socket the user has on the server with `code`, as the gateway itself would. */
  function closeServerSide(userId: string, code: number, reason: string): number {
    const registry = t.app.get(ConnectionRegistry);
    const connections = [...registry.connectionsOf(userId)];
    for (const connection of connections) {
      (connection as unknown as { close(code: number, reason: string): void }).close(code, reason);
    }
    return connections.length;
  }

  it.each([
    ['the bearer subprotocol', false],
    ['the URL', true],
  ])('receives live notifications in order, with the token in %s', async (_, tokenInUrl) => {
    const userId = `live-${tokenInUrl}`;
    const sut = start({ token: await signToken(userId), tokenInUrl });
    await sut.readyCount(1);
    expect(sut.client.state).toBe('open');
    expect(sut.readies[0]).toMatchObject({ userId, unread: 0, replayed: 0, truncated: false });

    const ids = await store(userId, 3);
    await sut.received(3);

    expect(sut.ids()).toEqual(ids);
    expect(sut.notifications.map((event) => [event.unread, event.replayed])).toEqual([
      [1, false],
      [2, false],
      [3, false],
    ]);
    expect(sut.notifications[0].notification).toMatchObject({
      type: 'sdk.item',
      payload: { n: 0 },
      read: false,
    });
    expect(sut.client.lastId).toBe(ids[2]);
  });

  it.each([
    [1011, 'internal error'],
    [4008, 'slow consumer: resume with since'],
  ])(
    'survives a server-side close with %i, resuming without loss or duplicates',
    async (code, reason) => {
      const userId = `resumer-${code}`;
      const token = await signToken(userId);
      // The test decides when the SDK may reconnect: it asks for the token first.
      let release: () => void = () => undefined;
      let gate: Promise<void> = Promise.resolve();
      const sut = start({
        token: async () => {
          await gate;
          return token;
        },
      });
      await sut.readyCount(1);
      const live = await store(userId, 2);
      await sut.received(2);

      gate = new Promise((resolve) => (release = resolve));
      expect(closeServerSide(userId, code, reason)).toBe(1);
      await sut.until(() => sut.client.state === 'connecting', 'the reconnect attempt');
      expect(sut.states).toContainEqual(expect.objectContaining({ state: 'closed', code, reason }));
      const missed = await store(userId, 3, 2);
      release();
      await sut.readyCount(2);
      const after = await store(userId, 1, 5);
      await sut.received(6);

      expect(sut.ids()).toEqual([...live, ...missed, ...after]);
      expect(new Set(sut.ids()).size).toBe(6);
      expect(sut.notifications.map((event) => event.replayed)).toEqual([
        false,
        false,
        true,
        true,
        true,
        false,
      ]);
      expect(sut.readies[1]).toMatchObject({ replayed: 3, truncated: false, unread: 5 });
      expect(sut.truncations).toEqual([]);
    },
  );

  it('keeps two clients of one user in step when one marks read', async () => {
    const userId = 'reader';
    const [tab1, tab2] = [
      start({ token: await signToken(userId) }),
      start({ token: await signToken(userId) }),
    ];
    await tab1.readyCount(1);
    await tab2.readyCount(1);
    const ids = await store(userId, 3);
    await tab1.received(3);
    await tab2.received(3);

    tab1.client.markRead([ids[0], ids[1]]);
    await tab2.until(() => tab2.unread.at(-1) === 1, 'unread 1 in the other tab');
    tab2.client.markAllRead();
    await tab1.until(() => tab1.unread.at(-1) === 0, 'unread 0 in the first tab');
    await tab2.until(() => tab2.unread.at(-1) === 0, 'unread 0 in the second tab');

    expect(tab1.unread).toEqual([1, 0]);
    expect(tab2.unread).toEqual([1, 0]);
    expect(tab1.client.unread).toBe(0);
  });

  it('keeps two clients of one user in step through archive, seen and per-category counts', async () => {
    const userId = 'sdk-archiver';
    const [tab1, tab2] = [
      start({ token: await signToken(userId) }),
      start({ token: await signToken(userId) }),
    ];
    const marked: unknown[] = [];
    tab2.client.on('marked', (event) => marked.push(event));
    await tab1.readyCount(1);
    await tab2.readyCount(1);
    const ids: string[] = [];
    for (const category of ['billing', 'social', 'social']) {
      const job = await t.producer.add('notify', { userId, type: 'sdk.item', category });
      ids.push(((await job.waitUntilFinished(t.queueEvents, 5000)) as { ids: string[] }).ids[0]);
    }
    await tab2.received(3);
    expect(tab2.client.countsOf('social')).toEqual({ unread: 2, unseen: 2 });

    tab1.client.markAllSeen();
    await tab2.until(() => tab2.client.unseen === 0, 'unseen 0 in the other tab');
    expect(tab2.client.unread).toBe(3);
    tab1.client.archive([ids[1]]);
    await tab2.until(() => tab2.client.unread === 2, 'unread 2 in the other tab');

    expect(tab2.client.counts).toEqual({
      unread: 2,
      unseen: 0,
      categories: { billing: { unread: 1, unseen: 0 }, social: { unread: 1, unseen: 0 } },
    });
    expect(marked).toMatchObject([
      { as: 'seen', all: true },
      { as: 'archived', ids: [ids[1]] },
    ]);
    expect(tab1.client.counts).toEqual(tab2.client.counts);
  });

  it('asks for a fresh token after 4401 and carries on with it', async () => {
    const tokens = [
      await signToken('refreshed', { expiresIn: Math.floor(Date.now() / 1000) - 60 }),
      await signToken('refreshed'),
    ];
    const token = vi.fn(() => tokens.shift() ?? 'none left');
    const sut = start({ token });

    await sut.readyCount(1);

    expect(token).toHaveBeenCalledTimes(2);
    expect(sut.states.map((state) => [state.state, state.code])).toEqual([
      ['connecting', undefined],
      ['closed', 4401],
      ['connecting', undefined],
      ['open', undefined],
    ]);
    expect(sut.errors).toEqual([]);
  });

  it('after a second 4401 stops and reports, without reconnecting', async () => {
    const { WebSocket: Counting, opened } = countingWebSocket();
    const token = vi.fn(() => 'not-a-jwt');
    const sut = start({ token, WebSocket: Counting });

    await sut.finalState();

    expect(token).toHaveBeenCalledTimes(2);
    expect(opened).toHaveLength(2);
    expect(sut.client.state).toBe('closed');
    expect(sut.states.at(-1)).toMatchObject({ state: 'closed', code: 4401, final: true });
    expect(sut.errors).toEqual([expect.objectContaining({ code: 'unauthorized', fatal: true })]);
  });

  it('never reconnects after 4403', async () => {
    const { WebSocket: Foreign, opened } = countingWebSocket({ origin: 'https://evil.example' });
    const sut = start({ token: await signToken('foreign'), WebSocket: Foreign });

    await sut.finalState();

    expect(opened).toHaveLength(1);
    expect(sut.states.at(-1)).toMatchObject({ state: 'closed', code: 4403, final: true });
    expect(sut.errors).toEqual([
      expect.objectContaining({ code: 'origin_not_allowed', fatal: true }),
    ]);
  });

  describe('when the history is lost', () => {
    let redis: RedisServer;
    let own: TestApp;

    beforeAll(async () => {
      // A private Redis: this case flushes it, as a Redis that lost its data would be.
      redis = await startRedis();
      own = await startTestApp({ REDIS_URL: redis.url });
    });
    afterAll(async () => {
      await own.close();
      await redis.stop();
    });

    it('says truncated, so that the page refetches, and carries on live', async () => {
      const client = connect({
        url: own.wsUrl,
        token: await signToken('amnesia'),
        WebSocket,
        backoff: { baseMs: 50, capMs: 400 },
      });
      clients.push(client);
      const sut = new Recorder(client);
      await sut.readyCount(1);
      const first = await own.producer.add('notify', { userId: 'amnesia', type: 'sdk.item' });
      await first.waitUntilFinished(own.queueEvents, 5000);
      await sut.received(1);

      const admin = new Redis(redis.url);
      await admin.flushall();
      await admin.quit();
      const second = await own.producer.add('notify', { userId: 'amnesia', type: 'sdk.item' });
      const [fresh] = ((await second.waitUntilFinished(own.queueEvents, 5000)) as { ids: string[] })
        .ids;

      await sut.until(() => sut.truncations.length === 1, 'truncated');
      expect(sut.states).toContainEqual(expect.objectContaining({ state: 'closed', code: 1011 }));
      // What the new history already holds is for the page to refetch; it resumes from there.
      expect(sut.truncations[0]).toMatchObject({ truncated: true, replayed: 0, cursor: fresh });
      const third = await own.producer.add('notify', { userId: 'amnesia', type: 'sdk.item' });
      const [latest] = ((await third.waitUntilFinished(own.queueEvents, 5000)) as { ids: string[] })
        .ids;
      await sut.until(() => sut.ids().includes(latest), 'the next notification');
      expect(sut.ids()).toEqual([expect.any(String), latest]);
    });
  });
});
