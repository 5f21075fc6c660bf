import { Cluster } from 'ioredis';
import { randomUUID } from 'node:crypto';
import type { NotificationsRedis } from '../libs/notifications/src/storage/notifications-redis.js';
import { RedisNotificationStore } from '../libs/notifications/src/storage/redis-notification.store.js';
import { RedisScheduleStore } from '../libs/notifications/src/storage/redis-schedule.store.js';
import { NotificationsSettings } from '../libs/notifications/src/notifications.settings.js';
import { RedisClusterFixture, usersOnEveryShard } from './kit/redis-cluster.js';

/** The schedule records on a Redis Cluster: each user's on the user's shard, beside the history. */
describe('scheduled notifications on a Redis Cluster (e2e)', { timeout: 120_000 }, () => {
  let cluster: RedisClusterFixture;
  let redis: Cluster;
  let users: string[];

  beforeAll(async () => {
    cluster = await RedisClusterFixture.start();
    redis = new Cluster(cluster.startupNodes, { redisOptions: { maxRetriesPerRequest: 2 } });
    await new Promise((resolve) => redis.once('ready', resolve));
    users = (await usersOnEveryShard(cluster, 2, 'sc')).flatMap((s) => s.users);
  }, 180_000);

  afterAll(async () => {
    await redis?.quit();
    await cluster?.stop();
  }, 60_000);

  it('records, cancels and claims for users on every shard, one pipeline per master', async () => {
    const settings = new NotificationsSettings({
      jwt: { secret: 'x' },
      keyPrefix: `sc-${randomUUID().slice(0, 8)}`,
    });
    const connection = { client: redis } as NotificationsRedis;
    const sut = new RedisScheduleStore(connection, settings);
    const history = new RedisNotificationStore(connection, settings);
    const [cancelled, ...others] = users;

    const pipelines = vi.spyOn(redis, 'pipeline');
    expect(await sut.record(users, 'r', 'job1')).toEqual(users.map(() => true));
    expect(pipelines).toHaveBeenCalledTimes(3);
    pipelines.mockRestore();

    expect(await sut.cancel(cancelled, 'r')).toEqual({ outcome: 'cancelled', jobId: 'job1' });
    const claims = await sut.claim(users, 'r', 'job1');
    expect(claims).toEqual(users.map((userId) => userId !== cancelled));
    await history.append(
      others.map((userId) => ({ userId, type: 't', payloadJson: '{}', dedupeKey: 'k:r' })),
    );
    await sut.release(others, 'r', 'job1');

    for (const userId of others) {
      expect(await sut.cancel(userId, 'r')).toEqual({ outcome: 'fired' });
    }
    expect(await sut.cancel(cancelled, 'r')).toEqual({ outcome: 'none' });
  });
});
