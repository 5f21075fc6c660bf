import type { Job } from 'bullmq';
import { Cluster } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { http, metricValue, scrapeMetrics, storedIds } from './kit/http.mjs';
import {
  clusterProducer,
  redisCli,
  RedisClusterFixture,
  usersInSlots,
  usersOnEveryShard,
  type ClusterShard,
} from './kit/redis-cluster.js';
import { ResumingTab } from './kit/resuming-tab.mjs';
import { startService, type ServiceProcess } from './kit/service.mjs';
import { eventually } from './kit/timing.mjs';
import { signToken, TEST_JWT_SECRET } from './kit/tokens.mjs';

const KEY_PREFIX = 'notif';
const channelOf = (userId: string) => `${KEY_PREFIX}:{${userId}}:ch`;

/**
 * Two gateways and a worker, as processes of the built service, on a Redis Cluster of six nodes
 * (three masters with a replica each), with users on every shard.
 */
describe(
  'Redis Cluster: 2 gateways + 1 worker on 3 masters × 2 (e2e)',
  { timeout: 240_000 },
  () => {
    let cluster: RedisClusterFixture;
    let env: Record<string, string>;
    let gatewayA: ServiceProcess;
    let gatewayB: ServiceProcess;
    let worker: ServiceProcess;
    let producer: Awaited<ReturnType<typeof clusterProducer>>;
    let shards: { shard: ClusterShard; users: string[] }[];
    const users: string[] = [];
    const tokens = new Map<string, string>();
    /** Per user: a tab on gateway A and one on gateway B. */
    const tabs = new Map<string, ResumingTab[]>();
    let sent = 0;

    beforeAll(async () => {
      cluster = await RedisClusterFixture.start();
      env = {
        NODE_ENV: 'production',
        JWT_SECRET: TEST_JWT_SECRET,
        REDIS_CLUSTER_NODES: cluster.seeds,
        NOTIFY_QUEUE: `cluster-${randomBytes(3).toString('hex')}`,
        KEY_PREFIX,
        JOB_LOCK_MS: '2000',
      };
      [gatewayA, gatewayB, worker] = await Promise.all([
        startService({ ...env, ROLE: 'gateway' }, { name: 'gateway A' }),
        startService({ ...env, ROLE: 'gateway' }, { name: 'gateway B' }),
        startService({ ...env, ROLE: 'worker' }, { name: 'worker' }),
      ]);
      producer = await clusterProducer(cluster, env.NOTIFY_QUEUE);
      shards = await usersOnEveryShard(cluster, 2, 'shard-user');
      // Users whose slot a reshard moves later on (the first slots of the first shard).
      const [first] = shards[0].shard.slots;
      shards[0].users.push(...usersInSlots(first[0], first[0] + 9, 2, 'moving-user'));
      users.push(...shards.flatMap((s) => s.users));
      for (const user of users) {
        tokens.set(user, await signToken(user));
        tabs.set(user, [
          new ResumingTab(tokens.get(user)!, () => gatewayA.wsUrl),
          new ResumingTab(tokens.get(user)!, () => gatewayB.wsUrl),
        ]);
      }
      await Promise.all([...tabs.values()].flat().map((tab) => tab.open()));
    }, 180_000);

    afterAll(async () => {
      await Promise.all([...tabs.values()].flat().map((tab) => tab.close()));
      await producer?.close();
      await Promise.all([gatewayA, gatewayB, worker].map((p) => p?.stop('SIGKILL')));
      await cluster?.stop();
    }, 60_000);

    /** `rounds` jobs: a batch job naming every user, and a notify job per user. */
    async function produce(rounds: number): Promise<Job[]> {
      const jobs: Job[] = [];
      for (let round = 0; round < rounds; round++) {
        sent += users.length * 2;
        jobs.push(
          ...(await producer.queue.addBulk([
            {
              name: 'notify-batch',
              data: { items: [{ userIds: users, type: 'cluster.batch', payload: { round } }] },
              opts: { attempts: 10, backoff: { type: 'fixed', delay: 200 } },
            },
            ...users.map((userId) => ({
              name: 'notify',
              data: { userId, type: 'cluster.one', payload: { round } },
              opts: { attempts: 10, backoff: { type: 'fixed' as const, delay: 200 } },
            })),
          ])),
        );
      }
      return jobs;
    }

    /** Every tab got exactly its user's history, once each, in order. */
    async function expectExactlyOnce(): Promise<void> {
      let stored = 0;
      for (const user of users) {
        const ids = await storedIds(gatewayB.httpUrl, tokens.get(user)!);
        stored += ids.length;
        for (const [i, tab] of tabs.get(user)!.entries()) {
          await tab.waitFor(ids.length, 60_000);
          expect({ user, tab: i, duplicates: tab.duplicates, reordered: tab.reordered }).toEqual({
            user,
            tab: i,
            duplicates: 0,
            reordered: 0,
          });
          const missing = ids.filter((id) => !tab.received.includes(id));
          expect({ user, tab: i, missing, closes: missing.length > 0 ? tab.closes : [] }).toEqual({
            user,
            tab: i,
            missing: [],
            closes: [],
          });
          expect(tab.received).toEqual(ids);
        }
      }
      expect(stored).toBe(sent);
    }

    it('delivers to users on all three shards, each notification exactly once to each socket, across gateways', async () => {
      const jobs = await produce(5);
      await Promise.all(jobs.map((job) => job.waitUntilFinished(producer.events, 60_000)));
      await expectExactlyOnce();
    });

    it("subscribes each user's channel on the user's shard only (PUBSUB SHARDNUMSUB), and counts it per shard", async () => {
      const current = await cluster.shards();
      for (const { shard } of shards) {
        const master = current.find((s) => s.masterId === shard.masterId)!;
        const answer = await redisCli(
          cluster.node(master.master).port,
          'PUBSUB',
          'SHARDNUMSUB',
          ...users.map(channelOf),
        );
        const counts = answer.trim().split('\n');
        for (const [i, user] of users.entries()) {
          const own = (await cluster.shardOf(channelOf(user))).masterId === shard.masterId;
          // Both gateways hold a socket of every user: two subscriptions on the user's shard, none elsewhere.
          expect({ user, shard: master.master, count: Number(counts[i * 2 + 1]) }).toEqual({
            user,
            shard: master.master,
            count: own ? 2 : 0,
          });
        }
      }
      const metrics = await scrapeMetrics(gatewayA.httpUrl);
      for (const { shard, users: onShard } of shards) {
        expect(
          metricValue(metrics, `notifications_shard_subscriptions{shard="${shard.master}"}`),
        ).toBe(onShard.length);
      }
      expect(metricValue(metrics, 'notifications_subscribed_channels')).toBe(users.length);
    });

    it("reports the cluster's state in the readiness check", async () => {
      const { status, body } = await http('GET', `${gatewayA.httpUrl}/health/ready`);

      expect(status).toBe(200);
      expect(body.details.redis).toMatchObject({ status: 'up', cluster_state: 'ok', masters: 3 });
    });

    it('a slot range migrated during traffic (redis-cli --cluster reshard) loses nothing and doubles nothing', async () => {
      const [from, to] = [shards[0].shard, shards[1].shard];
      const moving = users.filter((u) => u.startsWith('moving-user'));
      const jobs: Job[] = [];
      let producing = true;
      const traffic = (async () => {
        while (producing) jobs.push(...(await produce(1)));
      })();
      await cluster.reshard(from, to, 10);
      jobs.push(...(await produce(2)));
      producing = false;
      await traffic;
      for (const user of moving)
        expect((await cluster.shardOf(channelOf(user))).masterId).toBe(to.masterId);
      await Promise.all(jobs.map((job) => job.waitUntilFinished(producer.events, 60_000)));
      await expectExactlyOnce();
      // The gateways followed the move: the moved users' channels are subscribed on their new shard.
      await eventually(
        async () => {
          const answer = await redisCli(
            cluster.node(to.master).port,
            'PUBSUB',
            'SHARDNUMSUB',
            ...moving.map(channelOf),
          );
          return answer
            .trim()
            .split('\n')
            .filter((_, i) => i % 2 === 1)
            .every((count) => count === '2');
        },
        30_000,
        'the moved channels subscribed on their new shard',
      );
      const closes = moving.flatMap((u) =>
        tabs.get(u)!.flatMap((tab) => tab.closes.map((c) => c.code)),
      );
      console.log(
        `[cluster] reshard during traffic: ${jobs.length} jobs, ${sent} notifications stored and ` +
          `delivered twice each; closes of the moved users' tabs: ${JSON.stringify(closes)}`,
      );
    });

    it("the worker's expiry sweep removes what expired for users on every shard, without anyone reading", async () => {
      const expiring = (await usersOnEveryShard(cluster, 2, 'expiring-user')).flatMap(
        (s) => s.users,
      );
      const redis = new Cluster(cluster.startupNodes);
      try {
        const historyOf = (userId: string) => `${KEY_PREFIX}:{${userId}}:l`;
        const expiresAt = new Date(Date.now() + 1500).toISOString();
        const jobs = await producer.queue.addBulk(
          expiring.map((userId) => ({
            name: 'notify',
            data: { userId, type: 'cluster.expiring', expiresAt },
          })),
        );
        await Promise.all(jobs.map((job) => job.waitUntilFinished(producer.events, 30_000)));
        const sizes = async () => Promise.all(expiring.map((u) => redis.llen(historyOf(u))));
        expect(await sizes()).toEqual(expiring.map(() => 1));

        // Nobody reads these users' inboxes: only the worker's sweeper removes the notifications.
        await eventually(
          async () => (await sizes()).every((n) => n === 0),
          15_000,
          'the expired notifications swept on every shard',
        );
      } finally {
        redis.disconnect();
      }
    });

    it('SIGTERM on a gateway: its sockets are closed with 1001 and it exits 0', async () => {
      const onA = [...tabs.values()].map(([tab]) => tab);

      expect(await gatewayA.stop('SIGTERM')).toBe(0);
      for (const tab of onA) expect(tab.closes.map((c) => c.code)).toContain(1001);
    });
  },
);
