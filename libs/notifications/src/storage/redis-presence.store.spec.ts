import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { NotificationsSettings } from '../notifications.settings.js';
import type { NotificationsRedis } from './notifications-redis.js';
import { RedisKeys } from './redis-keys.js';
import { RedisPresenceStore } from './redis-presence.store.js';

describe(RedisPresenceStore.name, () => {
  let redis: Redis;
  let sut: RedisPresenceStore;
  let keys: RedisKeys;
  const NOW = Date.now();

  beforeAll(() => {
    redis = new Redis(inject('redisUrl'));
  });
  afterAll(async () => {
    await redis.quit();
  });
  beforeEach(() => {
    const keyPrefix = `spec:presence:${randomUUID()}`;
    sut = new RedisPresenceStore(
      { client: redis } as NotificationsRedis,
      new NotificationsSettings({ keyPrefix }),
    );
    keys = new RedisKeys(keyPrefix);
  });

  const write = (
    instanceId: string,
    present: string[],
    absent: string[] = [],
    deadline = NOW + 10_000,
  ) => sut.write({ instanceId, present, absent, deadline, now: NOW });

  it('counts a user online while some entry is ahead of now, offline otherwise', async () => {
    await write('gw-a', ['ada', 'bob']);

    expect(await sut.online(['ada', 'bob', 'eve'], NOW)).toEqual([true, true, false]);
    expect(await sut.online(['ada'], NOW + 10_000)).toEqual([false]);
  });

  it('keeps a user online while another gateway still has an entry', async () => {
    await write('gw-a', ['ada']);
    await write('gw-b', ['ada']);

    await write('gw-a', [], ['ada']);

    expect(await sut.online(['ada'], NOW)).toEqual([true]);
    await write('gw-b', [], ['ada']);
    expect(await sut.online(['ada'], NOW)).toEqual([false]);
    expect(await redis.exists(keys.forUser('ada').presence)).toBe(0);
  });

  it('expires the key at its latest deadline, and drops lapsed entries on a refresh', async () => {
    const key = keys.forUser('ada').presence;
    await write('gw-dead', ['ada'], [], NOW - 1);
    await write('gw-a', ['ada'], [], NOW + 5000);
    await write('gw-b', ['ada'], [], NOW + 3000);

    expect(await redis.zrange(key, 0, -1)).toEqual(['gw-b', 'gw-a']);
    expect(await redis.pexpiretime(key)).toBe(NOW + 5000);

    await write('gw-a', [], ['ada']);
    expect(await redis.pexpiretime(key)).toBe(NOW + 3000);
  });

  it('leaves nothing when removing an entry it never wrote', async () => {
    await write('gw-a', [], ['ada']);

    expect(await redis.exists(keys.forUser('ada').presence)).toBe(0);
  });

  it('sets and removes the entries of 100 users per script call, each key as one alone would be', async () => {
    const users = Array.from({ length: 250 }, (_, i) => `u${i}`);
    const commands = vi.spyOn(redis, 'sendCommand');
    try {
      await write('gw-a', users, [], NOW + 5000);
      expect(commands).toHaveBeenCalledTimes(3);
      expect(await sut.online(users, NOW)).toEqual(users.map(() => true));
      expect(await redis.pexpiretime(keys.forUser('u249').presence)).toBe(NOW + 5000);

      commands.mockClear();
      await write('gw-a', ['late'], users);
      expect(commands).toHaveBeenCalledTimes(4);
      expect(await sut.online([...users, 'late'], NOW)).toEqual([...users.map(() => false), true]);
      expect(await redis.exists(...users.map((u) => keys.forUser(u).presence))).toBe(0);
    } finally {
      commands.mockRestore();
    }
  });

  it('in one write, refreshes the present and removes only the absent of this gateway', async () => {
    await write('gw-b', ['bob']);
    await write('gw-a', ['ada', 'bob']);

    await write('gw-a', ['ada'], ['bob', 'eve']);

    expect(await sut.online(['ada', 'bob', 'eve'], NOW)).toEqual([true, true, false]);
    expect(await redis.zrange(keys.forUser('bob').presence, 0, -1)).toEqual(['gw-b']);
  });

  it('writes and reads batches larger than one pipeline slice', async () => {
    const users = Array.from({ length: 2500 }, (_, i) => `u${i}`);
    await write(
      'gw-a',
      users.filter((_, i) => i % 2 === 0),
    );

    const online = await sut.online(users, NOW);

    expect(online.filter(Boolean)).toHaveLength(1250);
    expect(online.every((value, i) => value === (i % 2 === 0))).toBe(true);
  });
});
