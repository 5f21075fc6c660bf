import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Queue, QueueEvents } from 'bullmq';
import calculateSlot from 'cluster-key-slot';
import { Cluster } from 'ioredis';
import { CLUSTER_QUEUE_PREFIX } from '../../src/redis/redis-cluster.js';
import { freePort, startProcess, type StartedProcess } from './processes.mjs';
import { eventually } from './timing.mjs';

const run = promisify(execFile);

export interface ClusterNode {
  port: number;
  /** The cluster bus port (given explicitly, so it need not be port + 10000). */
  busPort: number;
  dir: string;
  process: StartedProcess | undefined;
  /** Set once the process has exited. */
  gone: boolean;
}

export interface ClusterShard {
  /** `127.0.0.1:port` of the master. */
  master: string;
  masterId: string;
  replicas: string[];
  /** Slot ranges, `[from, to]` inclusive. */
  slots: [number, number][];
}

/** Runs `redis-cli` against 127.0.0.1:port and returns its output. */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

function isRunning(node: ClusterNode): boolean {
  return node.process !== undefined && !node.gone;
}

async function startNode(node: ClusterNode, nodeTimeoutMs: number): Promise<StartedProcess> {
  mkdirSync(node.dir, { recursive: true });
  const args = [
    '--port',
    String(node.port),
    '--bind',
    '127.0.0.1',
    '--cluster-enabled',
    'yes',
    '--cluster-port',
    String(node.busPort),
    '--cluster-config-file',
    'nodes.conf',
    '--cluster-node-timeout',
    String(nodeTimeoutMs),
    '--dir',
    node.dir,
    '--save',
    '',
    '--appendonly',
    'no',
  ];
  const child = startProcess(`redis-server:${node.port}`, 'redis-server', args);
  node.gone = false;
  void child.exited().then(
    () => (node.gone = true),
    () => (node.gone = true),
  );
  await child.waitFor('Ready to accept connections', 20_000);
  return child;
}

/**
 * A Redis Cluster of its own for a test: `masters × (1 + replicas)` `redis-server
 * --cluster-enabled yes` processes on free ports of 127.0.0.1, joined with `redis-cli --cluster
 * create`. Nothing is kept on disk beyond the run.
 */
export class RedisClusterFixture {
  private constructor(
    readonly nodes: ClusterNode[],
    private readonly root: string,
    private readonly nodeTimeoutMs: number,
  ) {}

  static async start(
    options: { masters?: number; replicas?: number; nodeTimeoutMs?: number } = {},
  ): Promise<RedisClusterFixture> {
    const masters = options.masters ?? 3;
    const replicas = options.replicas ?? 1;
    const nodeTimeoutMs = options.nodeTimeoutMs ?? 1000;
    const root = mkdtempSync(join(tmpdir(), 'notif-cluster-'));
    const nodes: ClusterNode[] = [];
    const ports = new Set<number>();
    while (nodes.length < masters * (1 + replicas)) {
      const port = await freePort();
      const busPort = await freePort();
      if (ports.has(port) || ports.has(busPort) || port === busPort) continue;
      ports.add(port).add(busPort);
      nodes.push({ port, busPort, dir: join(root, String(port)), process: undefined, gone: true });
    }
    const fixture = new RedisClusterFixture(nodes, root, nodeTimeoutMs);
    try {
      await Promise.all(
        nodes.map(async (node) => (node.process = await startNode(node, nodeTimeoutMs))),
      );
      await run(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...nodes.map((n) => `127.0.0.1:${n.port}`),
          '--cluster-replicas',
          String(replicas),
          '--cluster-yes',
        ],
        { maxBuffer: 16 * 1024 * 1024 },
      );
      await fixture.waitUntilHealthy();
    } catch (error) {
      await fixture.stop();
      throw error;
    }
    return fixture;
  }

  /** Seed nodes as `REDIS_CLUSTER_NODES` takes them. */
  get seeds(): string {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
  }

  get startupNodes(): { host: string; port: number }[] {
    return this.nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));
  }

  /** A node that is running, to ask about the cluster. */
  private get anyLive(): ClusterNode {
    const node = this.nodes.find(isRunning);
    if (!node) throw new Error('no cluster node is running');
    return node;
  }

  /** The shards as the cluster sees them now (`CLUSTER NODES` of a live node). */
  async shards(): Promise<ClusterShard[]> {
    const text = await redisCli(this.anyLive.port, 'CLUSTER', 'NODES');
    const rows = text
      .trim()
      .split('\n')
      .map((line) => line.split(' '));
    const shards: ClusterShard[] = [];
    for (const row of rows) {
      const [id, address, flags] = row;
      const set = flags.split(',');
      if (!set.includes('master') || set.includes('fail')) continue;
      const slots: [number, number][] = [];
      for (const range of row.slice(8)) {
        if (range.startsWith('[')) continue;
        const [from, to] = range.split('-').map(Number);
        slots.push([from, to ?? from]);
      }
      if (slots.length === 0) continue;
      shards.push({
        master: address.split('@')[0],
        masterId: id,
        replicas: rows
          .filter((r) => r[3] === id && !r[2].split(',').includes('fail'))
          .map((r) => r[1].split('@')[0]),
        slots,
      });
    }
    return shards.sort((a, b) => a.slots[0][0] - b.slots[0][0]);
  }

  /** The shard that serves `key` (or a shard channel) now. */
  async shardOf(key: string): Promise<ClusterShard> {
    const slot = calculateSlot(key);
    const shard = (await this.shards()).find((s) =>
      s.slots.some(([from, to]) => slot >= from && slot <= to),
    );
    if (!shard) throw new Error(`no shard serves slot ${slot}`);
    return shard;
  }

  node(address: string): ClusterNode {
    const port = Number(address.split(':')[1]);
    const node = this.nodes.find((n) => n.port === port);
    if (!node) throw new Error(`no node ${address}`);
    return node;
  }

  /**
   * Waits until every running node says `cluster_state:ok` with all 16384 slots served and every
   * node known, agrees on the masters and every replica's link to its master is up.
   */
  async waitUntilHealthy(timeoutMs = 30_000): Promise<void> {
    await eventually(
      async () => {
        const live = this.nodes.filter(isRunning);
        const views = await Promise.all(
          live.map(async (n) => {
            const info = await redisCli(n.port, 'CLUSTER', 'INFO');
            const replication = await redisCli(n.port, 'INFO', 'replication');
            const nodes = await redisCli(n.port, 'CLUSTER', 'NODES');
            const masters = nodes
              .trim()
              .split('\n')
              .map((line) => line.split(' '))
              .filter(([, , flags, ...rest]) => {
                const set = flags.split(',');
                return set.includes('master') && !set.includes('fail') && rest.length > 5;
              })
              .map(([id]) => id)
              .sort()
              .join(',');
            const linkOk =
              !replication.includes('role:slave') || replication.includes('master_link_status:up');
            const ok =
              info.includes('cluster_state:ok') &&
              info.includes('cluster_slots_ok:16384') &&
              info.includes(`cluster_known_nodes:${this.nodes.length}`) &&
              linkOk;
            return { ok, masters };
          }),
        );
        return views.every((v) => v.ok && v.masters === views[0].masters);
      },
      timeoutMs,
      'a healthy cluster',
    );
  }

  /** Kills the node's process with `signal` and waits for it to exit. */
  async kill(address: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const node = this.node(address);
    const child = node.process;
    if (!child || !isRunning(node)) return;
    await child.stop(signal, 5000);
    node.gone = true;
  }

  /** Starts a killed node again with its own `nodes.conf`: it rejoins (a former master as replica). */
  async restart(address: string): Promise<void> {
    const node = this.node(address);
    node.process = await startNode(node, this.nodeTimeoutMs);
  }

  /**
   * Moves `count` slots from one master to another with `redis-cli --cluster reshard` (keys and
   * all), as an operator would; resolves when it finished.
   */
  async reshard(from: ClusterShard, to: ClusterShard, count: number): Promise<void> {
    await run(
      'redis-cli',
      [
        '--cluster',
        'reshard',
        from.master,
        '--cluster-from',
        from.masterId,
        '--cluster-to',
        to.masterId,
        '--cluster-slots',
        String(count),
        '--cluster-yes',
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (node) => {
        const child = node.process;
        if (!child || !isRunning(node)) return;
        await child.stop('SIGKILL');
        node.gone = true;
      }),
    );
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** User ids, `perShard` on each shard of the cluster (by the slot of the user's hash tag). */
export async function usersOnEveryShard(
  cluster: RedisClusterFixture,
  perShard: number,
  name = 'u',
): Promise<{ shard: ClusterShard; users: string[] }[]> {
  const shards = await cluster.shards();
  const result = shards.map((shard) => ({ shard, users: [] as string[] }));
  for (let i = 0; result.some((r) => r.users.length < perShard); i++) {
    const user = `${name}-${i}`;
    const slot = calculateSlot(user);
    const entry = result.find((r) =>
      r.shard.slots.some(([from, to]) => slot >= from && slot <= to),
    );
    if (entry && entry.users.length < perShard) entry.users.push(user);
  }
  return result;
}

/** User ids whose hash tag falls in `[from, to]` (slots), `count` of them. */
export function usersInSlots(from: number, to: number, count: number, name = 'm'): string[] {
  const users: string[] = [];
  for (let i = 0; users.length < count; i++) {
    const slot = calculateSlot(`${name}-${i}`);
    if (slot >= from && slot <= to) users.push(`${name}-${i}`);
  }
  return users;
}

/**
 * A BullMQ producer on the cluster, as any other service would use it (`{rtnotify}` prefix), for a
 * queue of the spec's own (a fresh name).
 *
 * Its `QueueEvents` reads the queue's event stream from the first entry, not from `$` (BullMQ's
 * default): `waitUntilReady` resolves once the cluster client is connected, before the first `XREAD`
 * reaches Redis (after a `CLIENT SETNAME` and the cluster's ready check; 5 s later when that first
 * `XREAD` fails), and with `$` every event written meanwhile is never seen. A spec that counts
 * `completed` events would then count short for good.
 */
export async function clusterProducer(
  fixture: RedisClusterFixture,
  queueName: string,
): Promise<{ queue: Queue; events: QueueEvents; close(): Promise<void> }> {
  const connection = () =>
    new Cluster(fixture.startupNodes, { redisOptions: { maxRetriesPerRequest: null } });
  const queueConnection = connection();
  const eventsConnection = connection();
  const queue = new Queue(queueName, { connection: queueConnection, prefix: CLUSTER_QUEUE_PREFIX });
  const events = new QueueEvents(queueName, {
    connection: eventsConnection,
    prefix: CLUSTER_QUEUE_PREFIX,
    lastEventId: '0',
  });
  // Specs wait on many jobs at once (job.waitUntilFinished adds listeners per job).
  queue.setMaxListeners(0);
  events.setMaxListeners(0);
  await events.waitUntilReady();
  return {
    queue,
    events,
    async close() {
      await queue.close();
      await events.close();
      queueConnection.disconnect();
      eventsConnection.disconnect();
    },
  };
}
