import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { inject } from 'vitest';
import type { ChannelMessage } from './notification.broker.js';
import { NotificationsSettings } from '../notifications.settings.js';
import type { NotificationsRedis } from './notifications-redis.js';
import { RedisKeys } from './redis-keys.js';
import { RedisNotificationBroker } from './redis-notification.broker.js';

/** The broker's own channel connection (private): the specs time their calls on its states. */
function channelConnection(broker: RedisNotificationBroker): Redis {
  return (broker as unknown as { subscriber: Redis }).subscriber;
}

/** Resolves after the current turn of the event loop and its immediates. */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

async function waitUntil(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within 10 s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('RedisNotificationBroker, on a real Redis', () => {
  let redis: Redis;
  let keys: RedisKeys;
  let settings: NotificationsSettings;
  const brokers: RedisNotificationBroker[] = [];

  beforeAll(() => {
    redis = new Redis(inject('redisUrl'));
  });
  beforeEach(() => {
    const keyPrefix = `spec:broker:${randomUUID()}`;
    keys = new RedisKeys(keyPrefix);
    settings = new NotificationsSettings({ keyPrefix });
  });
  afterEach(async () => {
    await Promise.all(brokers.splice(0).map((broker) => broker.onApplicationShutdown()));
  });
  afterAll(async () => {
    await redis.quit();
  });

  function newBroker(): { broker: RedisNotificationBroker; received: ChannelMessage[] } {
    const broker = new RedisNotificationBroker({ client: redis } as NotificationsRedis, settings);
    brokers.push(broker);
    const received: ChannelMessage[] = [];
    broker.onMessage((message) => received.push(message));
    return { broker, received };
  }

  async function subscribers(userId: string): Promise<number> {
    const [, count] = (await redis.pubsub('NUMSUB', keys.forUser(userId).channel)) as [
      string,
      number,
    ];
    return Number(count);
  }

  const message = (id: string) => `e1 1 ${id} 0\n{"event":"notification"}`;

  it('a socket that arrives while the channel connection is still in its handshake gets its messages', async () => {
    // ioredis writes a SUBSCRIBE at once in that state; the handshake's next command then fails in
    // subscriber mode and the connection is replaced by one without the channel (seen on Node 24
    // with the first socket after start).
    const { broker, received } = newBroker();
    await once(channelConnection(broker), 'connect');
    await broker.acquire('early');
    expect(await subscribers('early')).toBe(1);
    await redis.publish(keys.forUser('early').channel, message('n-1'));
    await waitUntil(async () => received.length === 1, 'the message dispatched');
    expect(received[0]).toMatchObject({ userId: 'early', id: 'n-1', epoch: 'e1', version: 1 });
  });

  it('a socket gone before the connection is ready leaves no subscription behind', async () => {
    const { broker } = newBroker();
    const acquired = broker.acquire('brief');
    broker.release('brief');
    await acquired; // resolves once the connection is ready
    await broker.acquire('other');
    expect(await subscribers('brief')).toBe(0);
    expect(await subscribers('other')).toBe(1);
    expect(broker.subscribedUsers).toBe(1);
  });

  it('after the connection is lost, every channel is subscribed again and the listeners are told', async () => {
    const { broker, received } = newBroker();
    let resubscribed = 0;
    broker.onResubscribed(() => resubscribed++);
    const connection = channelConnection(broker);
    await once(connection, 'ready');
    // Asked before the first SUBSCRIBE: a connection in subscriber mode answers only pub/sub commands.
    const id = String(await connection.client('ID'));
    await broker.acquire('kept');
    expect(broker.generation).toBe(0);
    await redis.client('KILL', 'ID', id);
    await waitUntil(async () => resubscribed === 1, 'the resubscribed listener');
    expect(broker.generation).toBe(1);
    expect(await subscribers('kept')).toBe(1);
    await redis.publish(keys.forUser('kept').channel, message('n-2'));
    await waitUntil(async () => received.length === 1, 'the message dispatched');
  });

  it('the channels acquired in one turn of the event loop go out as one SUBSCRIBE', async () => {
    const { broker, received } = newBroker();
    await once(channelConnection(broker), 'ready');
    const subscribe = vi.spyOn(channelConnection(broker), 'subscribe');
    const users = Array.from({ length: 50 }, (_, i) => `burst-${i}`);

    await Promise.all(users.map((userId) => broker.acquire(userId)));

    expect(subscribe).toHaveBeenCalledTimes(1);
    expect(subscribe.mock.calls[0]).toEqual(users.map((userId) => keys.forUser(userId).channel));
    for (const userId of users) expect(await subscribers(userId)).toBe(1);
    await Promise.all(
      users.map((userId) => redis.publish(keys.forUser(userId).channel, message(`n-${userId}`))),
    );
    await waitUntil(async () => received.length === users.length, 'every message dispatched');
  });

  it('the channels acquired while a SUBSCRIBE waits for its answer go out together once it has it', async () => {
    const { broker } = newBroker();
    const connection = channelConnection(broker);
    await once(connection, 'ready');
    const subscribe = vi.spyOn(connection, 'subscribe');
    // Redis answers no client for 300 ms: the first SUBSCRIBE stays in flight meanwhile.
    await redis.call('CLIENT', 'PAUSE', '300', 'ALL');
    const first = broker.acquire('first');
    await nextTurn();
    expect(subscribe).toHaveBeenCalledTimes(1);
    const later = ['later-1', 'later-2', 'later-3'];
    const acquired = [];
    for (const userId of later) {
      acquired.push(broker.acquire(userId));
      await nextTurn(); // each in a turn of its own
    }
    expect(subscribe).toHaveBeenCalledTimes(1);

    await Promise.all([first, ...acquired]);

    expect(subscribe).toHaveBeenCalledTimes(2);
    expect(subscribe.mock.calls[1]).toEqual(later.map((userId) => keys.forUser(userId).channel));
    for (const userId of ['first', ...later]) expect(await subscribers(userId)).toBe(1);
  });

  it('a connection lost with a SUBSCRIBE unanswered: what waited behind it is subscribed once it is back', async () => {
    const { broker } = newBroker();
    const connection = channelConnection(broker);
    await once(connection, 'ready');
    await redis.call('CLIENT', 'PAUSE', '300', 'ALL');
    const first = broker.acquire('in-flight');
    await nextTurn();
    const waiting = broker.acquire('waiting');
    await nextTurn();
    connection.disconnect(true); // dropped and reconnected by ioredis

    await Promise.all([first, waiting]);

    expect(broker.generation).toBe(1);
    expect(await subscribers('in-flight')).toBe(1);
    expect(await subscribers('waiting')).toBe(1);
  });

  it('the channels released in one turn of the event loop go out as one UNSUBSCRIBE', async () => {
    const { broker } = newBroker();
    const connection = channelConnection(broker);
    await once(connection, 'ready');
    const users = Array.from({ length: 50 }, (_, i) => `leaving-${i}`);
    await Promise.all([...users, 'staying'].map((userId) => broker.acquire(userId)));
    const unsubscribe = vi.spyOn(connection, 'unsubscribe');

    for (const userId of users) broker.release(userId);
    expect(unsubscribe).not.toHaveBeenCalled(); // at the end of the turn

    await nextTurn();
    expect(unsubscribe).toHaveBeenCalledTimes(1);
    expect(unsubscribe.mock.calls[0]).toEqual(users.map((userId) => keys.forUser(userId).channel));
    await waitUntil(
      async () => (await Promise.all(users.map(subscribers))).every((count) => count === 0),
      'every released channel unsubscribed',
    );
    expect(await subscribers('staying')).toBe(1);
    expect(broker.subscribedUsers).toBe(1);
  });

  it('a channel released and acquired again in one turn ends subscribed: its UNSUBSCRIBE goes first', async () => {
    const { broker, received } = newBroker();
    const connection = channelConnection(broker);
    await once(connection, 'ready');
    await broker.acquire('back');
    await broker.acquire('other');
    const order: string[] = [];
    vi.spyOn(connection, 'unsubscribe').mockImplementation(function (this: Redis, ...args) {
      order.push('UNSUBSCRIBE');
      return Redis.prototype.unsubscribe.apply(this, args as never);
    });
    vi.spyOn(connection, 'subscribe').mockImplementation(function (this: Redis, ...args) {
      order.push('SUBSCRIBE');
      return Redis.prototype.subscribe.apply(this, args as never);
    });

    broker.release('back');
    const again = broker.acquire('back');
    // A release sends the SUBSCRIBE waiting for its turn at once: the UNSUBSCRIBE before it first.
    broker.release('other');
    await again;

    expect(order).toEqual(['UNSUBSCRIBE', 'SUBSCRIBE', 'UNSUBSCRIBE']);
    await waitUntil(async () => (await subscribers('other')) === 0, "'other' unsubscribed");
    expect(await subscribers('back')).toBe(1);
    await redis.publish(keys.forUser('back').channel, message('n-back'));
    await waitUntil(async () => received.length === 1, 'the message dispatched');
  });

  it('an UNSUBSCRIBE unanswered when the connection is lost does not undo a socket back meanwhile', async () => {
    // ioredis sends the unanswered UNSUBSCRIBE again on the new connection; the SUBSCRIBE of the
    // channels still wanted must come after it, or a user whose socket came back during the outage
    // stays live without its channel.
    const { broker, received } = newBroker();
    const connection = channelConnection(broker);
    await once(connection, 'ready');
    await broker.acquire('again');
    // Redis answers no client for 300 ms: the UNSUBSCRIBE of the release stays unanswered.
    await redis.call('CLIENT', 'PAUSE', '300', 'ALL');
    broker.release('again');
    await nextTurn();
    connection.disconnect(true); // dropped and reconnected by ioredis
    await once(connection, 'close');
    // The user's socket is back while the connection is: subscribed once it is ready.
    await broker.acquire('again');
    // A round trip on the channel connection: whatever it sent before is answered by now.
    await connection.ping();

    expect(await subscribers('again')).toBe(1);
    await redis.publish(keys.forUser('again').channel, message('n-again'));
    await waitUntil(async () => received.length === 1, 'the message dispatched');
  });

  it('a release in the same turn as acquires sends their SUBSCRIBE first: acquire, release, acquire ends subscribed', async () => {
    const { broker } = newBroker();
    await once(channelConnection(broker), 'ready');
    const first = broker.acquire('racing');
    const bystander = broker.acquire('bystander');
    broker.release('racing');
    const again = broker.acquire('racing');
    broker.acquire('gone').catch(() => undefined);
    broker.release('gone');

    await Promise.all([first, bystander, again]);
    // UNSUBSCRIBE 'gone' went out after the SUBSCRIBE it came with.
    await waitUntil(async () => (await subscribers('gone')) === 0, "'gone' unsubscribed");
    expect(await subscribers('racing')).toBe(1);
    expect(await subscribers('bystander')).toBe(1);
    expect(broker.subscribedUsers).toBe(2);
  });
});
