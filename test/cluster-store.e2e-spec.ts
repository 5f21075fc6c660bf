import { Cluster } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { parseNotificationId } from '@rtnotify/protocol';
import calculateSlot from 'cluster-key-slot';
import { SEQ_FENCE } from '../libs/notifications/src/storage/cluster-scripts.js';
import { ReplicaAckError } from '../libs/notifications/src/storage/cluster-pipeline.js';
import type { AppendRequest } from '../libs/notifications/src/storage/notification.store.js';
import type { NotificationsRedis } from '../libs/notifications/src/storage/notifications-redis.js';
import { RedisKeys } from '../libs/notifications/src/storage/redis-keys.js';
import { RedisNotificationStore } from '../libs/notifications/src/storage/redis-notification.store.js';
import { PreferencesService } from '../libs/notifications/src/preferences/preferences.service.js';
import { NotificationsSettings } from '../libs/notifications/src/notifications.settings.js';
import { redisCli, RedisClusterFixture, usersOnEveryShard } from './kit/redis-cluster.js';
import { eventually } from './kit/timing.mjs';

/**
 * The store on a Redis Cluster of its own: batches split per node, WAIT, hash tags, the fence, the
 * expiry work lists per slot group.
 */
describe('the store on a Redis Cluster (e2e)', { timeout: 120_000 }, () => {
  let cluster: RedisClusterFixture;
  let redis: Cluster;
  let users: string[];

  beforeAll(async () => {
    cluster = await RedisClusterFixture.start();
    redis = new Cluster(cluster.startupNodes, { redisOptions: { maxRetriesPerRequest: 2 } });
    await new Promise((resolve) => redis.once('ready', resolve));
    users = (await usersOnEveryShard(cluster, 2, 'st')).flatMap((s) => s.users);
  }, 180_000);

  afterAll(async () => {
    await redis?.quit();
    await cluster?.stop();
  }, 60_000);

  function createSut(
    options: { minReplicasAck?: number; keyPrefix?: string; replicaAckTimeoutMs?: number } = {},
  ) {
    const settings = new NotificationsSettings({
      jwt: { secret: 'x' },
      keyPrefix: `cs-${randomUUID().slice(0, 8)}`,
      replicaAckTimeoutMs: 300,
      ...options,
    });
    return new RedisNotificationStore({ client: redis } as NotificationsRedis, settings);
  }

  const request = (userId: string, dedupeKey: string): AppendRequest => ({
    userId,
    type: 'spec.item',
    payloadJson: '{}',
    dedupeKey,
  });

  it('applies preferences and fallback decisions on every shard (users with awkward ids too)', async () => {
    const settings = new NotificationsSettings({
      jwt: { secret: 'x' },
      keyPrefix: `cs-${randomUUID().slice(0, 8)}`,
    });
    const connection = { client: redis } as NotificationsRedis;
    const sut = new RedisNotificationStore(connection, settings);
    const preferences = new PreferencesService(
      { client: redis, whenAvailable: async () => {} } as unknown as NotificationsRedis,
      settings,
    );
    const everyone = [...users, '}x', 'a}b'];
    for (const userId of everyone) {
      await preferences.update(userId, { categories: { muted: { inApp: false } } });
    }

    const results = await sut.append(
      everyone.flatMap((userId) => [
        { ...request(userId, 'muted'), category: 'muted' },
        { ...request(userId, 'critical'), category: 'muted', critical: true },
        { ...request(userId, 'open'), category: 'open', fallbackWhenOffline: true },
      ]),
    );

    for (const [i, userId] of everyone.entries()) {
      const [muted, critical, open] = results.slice(i * 3, i * 3 + 3);
      expect(muted).toMatchObject({ userId, stored: false, suppressed: true });
      expect(critical).toMatchObject({ userId, stored: true });
      expect(open.fallbackDueAt).toEqual(expect.any(Number));
      const claim = await sut.claimFallback(userId, open.id);
      expect(claim).toMatchObject({ kind: 'send', notification: { id: open.id, read: false } });
      // Claimed, not settled (a check that died before its add): claimed again.
      expect((await sut.claimFallback(userId, open.id)).kind).toBe('send');
      await sut.settleFallback(userId, open.id);
      expect(await sut.claimFallback(userId, open.id)).toEqual({ kind: 'none' });
    }
  });

  it('sends a batch over every shard as one pipeline per master, answering in item order', async () => {
    const sut = createSut();
    const pipelines = vi.spyOn(redis, 'pipeline');
    const batch = [...users, ...users].map((userId, i) => request(userId, `k${i}`));

    const results = await sut.append(batch);

    expect(pipelines).toHaveBeenCalledTimes(3);
    pipelines.mockRestore();
    expect(results.map((r) => r.userId)).toEqual(batch.map((r) => r.userId));
    expect(results.every((r) => r.stored)).toBe(true);
    for (const [i, userId] of users.entries()) {
      expect(parseNotificationId(results[i].id)?.seq).toBe(1);
      expect(parseNotificationId(results[users.length + i].id)?.seq).toBe(2);
      expect(results[users.length + i].userId).toBe(userId);
    }
    // A retry of the same batch stores nothing twice and answers the same ids.
    const again = await sut.append(batch);
    expect(again.map((r) => r.id)).toEqual(results.map((r) => r.id));
    expect(again.some((r) => r.stored)).toBe(false);
  });

  it('stores for user ids whose braces would break the hash tag, in one batch with others', async () => {
    const sut = createSut();
    const awkward = ['}', '}x', '=', '=}y', 'a}b', '{', '{}'];

    const results = await sut.append([...awkward, ...users].map((u, i) => request(u, `k${i}`)));

    expect(results.every((r) => r.stored)).toBe(true);
    for (const userId of awkward)
      expect((await sut.list(userId, { limit: 5 })).items).toHaveLength(1);
  });

  it("sweeps expiries of users on every shard from the work list of each user's slot group", async () => {
    const keyPrefix = `cs-${randomUUID().slice(0, 8)}`;
    const sut = createSut({ keyPrefix });
    const keys = new RedisKeys(keyPrefix, true);
    await sut.append(users.map((u, i) => request(u, `keep${i}`)));
    const soon = new Date(Date.now() + 1000).toISOString();
    await sut.append(users.map((u, i) => ({ ...request(u, `e${i}`), expiresAt: soon })));
    // Each user is listed in its group's work list, which hashes into the user's slot group.
    for (const userId of users) {
      const list = keys.expiringFor(userId);
      expect(await redis.zscore(list, userId)).not.toBeNull();
      const group = (key: string) => Math.floor(calculateSlot(key) / 1024);
      expect(group(list)).toBe(group(keys.forUser(userId).meta));
    }

    const removed = await eventually(
      async () => {
        const result = await sut.sweepExpired();
        return result.removed > 0 && result;
      },
      10_000,
      'a sweep that removes the expired ones',
    );

    expect(removed).toEqual({ removed: users.length, more: false });
    for (const userId of users) {
      expect((await sut.list(userId, { limit: 5 })).items.map((i) => i.type)).toEqual([
        'spec.item',
      ]);
      expect(await redis.zscore(keys.expiringFor(userId), userId)).toBeNull();
    }
    expect(await sut.sweepExpired()).toEqual({ removed: 0, more: false });
  });

  it('waits for replicas: enough acknowledge, or the batch fails naming the node and a retry stores nothing twice', async () => {
    // Generous where replicas must answer (a loaded machine), short where they cannot.
    const acked = createSut({ minReplicasAck: 1, replicaAckTimeoutMs: 5000 });
    expect((await acked.append(users.map((u) => request(u, 'w1')))).every((r) => r.stored)).toBe(
      true,
    );

    const keyPrefix = `cs-${randomUUID().slice(0, 8)}`;
    const sut = createSut({ minReplicasAck: 2, keyPrefix });
    const batch = users.map((u) => request(u, 'w2'));
    const error = await sut.append(batch).catch((e: Error) => e);
    expect(error).toBeInstanceOf(ReplicaAckError);
    expect((error as Error).message).toMatch(
      /^only 1 of 2 replicas acknowledged the writes within 300 ms on 127\.0\.0\.1:\d+$/,
    );
    // The job is retried (here with a reachable requirement): the same ids, nothing new stored.
    const retried = await createSut({
      minReplicasAck: 1,
      keyPrefix,
      replicaAckTimeoutMs: 5000,
    }).append(batch);
    expect(retried.some((r) => r.stored)).toBe(false);
    expect(new Set(retried.map((r) => parseNotificationId(r.id)?.seq))).toEqual(new Set([1]));
  });

  it('never issues an id again after a failover: the first store on the promoted replica skips the fence', async () => {
    const sut = createSut();
    const user = users[0];
    const before = await sut.append([request(user, 'f1')]);
    const shard = await cluster.shardOf(`{${user}}`);
    const replica = cluster.node(shard.replicas[0]);

    await redisCli(replica.port, 'CLUSTER', 'FAILOVER');
    await eventually(
      async () => (await cluster.shardOf(`{${user}}`)).master === shard.replicas[0],
      30_000,
      'the replica promoted',
    );
    await cluster.waitUntilHealthy();
    const after = await eventually(
      () => sut.append([request(user, 'f2')]).catch(() => undefined),
      30_000,
      'a store on the new master',
    );
    const next = await sut.append([request(user, 'f3')]);

    const seq = (id: string) => parseNotificationId(id)!.seq;
    expect(seq(after[0].id)).toBe(seq(before[0].id) + SEQ_FENCE);
    expect(seq(next[0].id)).toBe(seq(after[0].id) + 1);
    expect((await sut.list(user, { limit: 10 })).items.map((i) => i.id)).toEqual([
      next[0].id,
      after[0].id,
      before[0].id,
    ]);
  });
});
