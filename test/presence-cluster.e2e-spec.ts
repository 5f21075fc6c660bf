import calculateSlot from 'cluster-key-slot';
import { randomBytes } from 'node:crypto';
import { http } from './kit/http.mjs';
import { RedisClusterFixture, usersOnEveryShard, type ClusterShard } from './kit/redis-cluster.js';
import { startService, type ServiceProcess } from './kit/service.mjs';
import { eventually } from './kit/timing.mjs';
import { signToken, TEST_JWT_SECRET } from './kit/tokens.mjs';
import { TestClient } from './kit/ws-client.js';

const API_KEY = 'presence-key-0123456789';
const PING_INTERVAL_MS = 2000;
const KEY_PREFIX = 'notif';

/**
 * Presence on a Redis Cluster (three masters): users on every shard, their entries written,
 * refreshed and read in batches that span every master (one pipeline per node).
 */
describe('presence on a Redis Cluster (e2e)', { timeout: 180_000 }, () => {
  let cluster: RedisClusterFixture;
  let env: Record<string, string>;
  let gateways: ServiceProcess[];
  let shards: { shard: ClusterShard; users: string[] }[];
  const open: TestClient[] = [];

  beforeAll(async () => {
    cluster = await RedisClusterFixture.start({ masters: 3, replicas: 0 });
    env = {
      NODE_ENV: 'production',
      JWT_SECRET: TEST_JWT_SECRET,
      REDIS_CLUSTER_NODES: cluster.seeds,
      NOTIFY_QUEUE: `presence-cluster-${randomBytes(3).toString('hex')}`,
      KEY_PREFIX,
      API_KEYS: API_KEY,
      PING_INTERVAL_MS: String(PING_INTERVAL_MS),
    };
    gateways = await Promise.all(
      ['A', 'B'].map((name) =>
        startService({ ...env, ROLE: 'gateway' }, { name: `gateway ${name}` }),
      ),
    );
    shards = await usersOnEveryShard(cluster, 3, `p${randomBytes(2).toString('hex')}`);
  }, 180_000);

  afterEach(async () => {
    await Promise.all(open.splice(0).map((client) => client.close()));
  });

  afterAll(async () => {
    await Promise.all((gateways ?? []).map((gateway) => gateway.stop('SIGKILL')));
    await cluster?.stop();
  }, 60_000);

  async function online(userIds: string[]): Promise<Record<string, boolean>> {
    const { status, body } = await http(
      'GET',
      `${gateways[1].httpUrl}/v1/presence?userIds=${userIds.map(encodeURIComponent).join(',')}`,
      { token: API_KEY },
    );
    expect(status).toBe(200);
    return body.online as Record<string, boolean>;
  }

  const all = (answer: Record<string, boolean>, ids: string[], value: boolean) =>
    ids.every((id) => answer[id] === value);

  it('answers users of every shard in one request as their tabs open and close', async () => {
    const [present, absent] = [0, 1].map((n) =>
      shards.flatMap((s) => s.users.filter((_, i) => i % 2 === n)),
    );
    // The presence keys of these users live on every master.
    const slots = present.map((userId) => calculateSlot(`${KEY_PREFIX}:{${userId}}:p`));
    expect(
      new Set(
        slots.map((slot) =>
          shards.findIndex((s) => s.shard.slots.some(([a, b]) => slot >= a && slot <= b)),
        ),
      ).size,
    ).toBe(3);
    for (const userId of present) {
      open.push(await TestClient.ready(gateways[0].wsUrl, { token: await signToken(userId) }));
    }

    await eventually(
      async () => {
        const answer = await online([...present, ...absent]);
        return all(answer, present, true) && all(answer, absent, false);
      },
      5000,
      'every present user online, the others offline',
    );

    await Promise.all(open.splice(0).map((client) => client.close()));
    await eventually(
      async () => all(await online(present), present, false),
      5000,
      'every user offline once the tabs closed',
    );
  });

  it('flips every shard to false within one ping interval when the gateway is SIGKILLed', async () => {
    const victim = await startService({ ...env, ROLE: 'gateway' }, { name: 'gateway C' });
    const users = shards.flatMap((s) => s.users);
    const tabs = await Promise.all(
      users.map(async (userId) =>
        TestClient.ready(victim.wsUrl, { token: await signToken(userId) }),
      ),
    );
    await eventually(async () => all(await online(users), users, true), 5000, 'online');

    const killedAt = Date.now();
    await victim.stop('SIGKILL');
    await eventually(
      async () => all(await online(users), users, false),
      PING_INTERVAL_MS + 5000,
      'offline after the kill',
    );
    const flipMs = Date.now() - killedAt;
    console.log(
      `presence on a cluster after SIGKILL (ping interval ${PING_INTERVAL_MS} ms): ` +
        `${users.length} users on 3 masters offline ${flipMs} ms after the kill`,
    );
    expect(flipMs).toBeLessThan(PING_INTERVAL_MS + 1000);
    await Promise.all(tabs.map((tab) => tab.waitClosed(5000)));
  });
});
