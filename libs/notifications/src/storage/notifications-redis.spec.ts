import { Cluster, Redis } from 'ioredis';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { inject } from 'vitest';
import { NotificationsUnavailableError } from '../errors/notifications-unavailable.error.js';
import type { RedisConnection } from './cluster-connection.js';
import { connectionFrom, NotificationsRedis } from './notifications-redis.js';

/** A port of 127.0.0.1 where nothing listens. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

const queueOn = (connection: unknown) => ({ opts: { connection } }) as any;

describe(connectionFrom.name, () => {
  const opened: RedisConnection[] = [];
  const open = (connection: unknown) => {
    const redis = connectionFrom(connection, { connectionName: 'spec', lazyConnect: true });
    opened.push(redis);
    return redis;
  };
  afterEach(() => {
    for (const redis of opened.splice(0)) redis.disconnect();
  });

  it('takes host and port options, with its own options on top', () => {
    const redis = open({ host: '127.0.0.9', port: 6390, maxRetriesPerRequest: null });

    expect(redis.options).toMatchObject({
      host: '127.0.0.9',
      port: 6390,
      connectionName: 'spec',
      lazyConnect: true,
    });
  });

  it('takes a url option (BullMQ 6)', () => {
    const redis = open({ url: 'redis://127.0.0.9:6391/2' });

    expect(redis.options).toMatchObject({ host: '127.0.0.9', port: 6391, db: 2 });
  });

  it('duplicates an ioredis client', () => {
    const host = new Redis({ host: '127.0.0.9', port: 6392, lazyConnect: true });
    opened.push(host);

    const redis = open(host);

    expect(redis).not.toBe(host);
    expect(redis.options).toMatchObject({ host: '127.0.0.9', port: 6392, connectionName: 'spec' });
  });

  it('duplicates a Redis Cluster client, its node options with its own on top', () => {
    const host = new Cluster([{ host: '127.0.0.9', port: 7000 }], {
      lazyConnect: true,
      redisOptions: { password: 'pw', connectionName: 'host' },
    });
    opened.push(host);

    const redis = open(host) as Cluster;

    expect(redis).not.toBe(host);
    expect(redis.isCluster).toBe(true);
    expect(redis.options.redisOptions).toMatchObject({ password: 'pw', connectionName: 'spec' });
  });

  it('uses the default address without a connection option', () => {
    expect(open(undefined).options).toMatchObject({ host: 'localhost', port: 6379 });
  });

  const nothing = (): void => undefined;
  it.each<[string, unknown]>([
    ['a client of another driver', { duplicate: nothing, connect: nothing }],
    ['a string', 'redis://127.0.0.1:6379'],
  ])('refuses %s, saying what it takes', (_, connection) => {
    expect(() => open(connection)).toThrow(/NotificationsModule: .*(ioredis|options)/);
  });
});

describe(NotificationsRedis.name, () => {
  it('is available once connected, and closes its connection at shutdown', async () => {
    const sut = new NotificationsRedis(queueOn({ ...urlParts(inject('redisUrl')) }));

    await expect(sut.whenAvailable(5000)).resolves.toBeUndefined();
    const ended = once(sut.client, 'end');
    await sut.onApplicationShutdown();

    await ended;
    expect(sut.client.status).toBe('end');
  });

  it('waits for the first connection at most timeoutMs', async () => {
    const sut = new NotificationsRedis(queueOn({ host: '127.0.0.1', port: await closedPort() }));
    const started = Date.now();

    const error: unknown = await sut.whenAvailable(100).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NotificationsUnavailableError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    sut.client.disconnect();
  });

  it('refuses at once once a connection that was up is lost', async () => {
    const sut = new NotificationsRedis(queueOn({ ...urlParts(inject('redisUrl')) }));
    await sut.whenAvailable(5000);
    const closed = once(sut.client, 'close');
    sut.client.disconnect();
    await closed;
    const started = Date.now();

    const error: unknown = await sut.whenAvailable(5000).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NotificationsUnavailableError);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

function urlParts(url: string): { host: string; port: number } {
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port) };
}
