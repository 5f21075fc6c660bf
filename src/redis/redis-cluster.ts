import { Cluster } from 'ioredis';

/**
 * BullMQ's key prefix on a cluster: a hash tag, so that every key of the queue lives in one slot
 * (BullMQ's scripts touch several keys at once). Producers on a cluster must use the same prefix.
 */
export const CLUSTER_QUEUE_PREFIX = '{rtnotify}';

/** `REDIS_CLUSTER_NODES`, parsed. */
export interface RedisClusterConfig {
  /** Seed nodes: the client learns every other node from them. */
  nodes: { host: string; port: number }[];
  username?: string;
  password?: string;
  tls: boolean;
}

const SEED_HELP = 'host:port or redis[s]://[user:password@]host:port';

/** A seed as it may appear in a message: never with its password. */
function shown(seed: string): string {
  return seed.replace(/\/\/[^@/]*@/, '//***@');
}

/**
 * Parses a comma-separated list of seeds (`host:port`, or `redis[s]://[user:password@]host:port` for
 * credentials and TLS, which then apply to every node). Returns the problems, each naming the
 * variable, when it cannot.
 */
export function parseClusterNodes(
  value: string,
): { config: RedisClusterConfig; problems: [] } | { config: undefined; problems: string[] } {
  const problems: string[] = [];
  const nodes: RedisClusterConfig['nodes'] = [];
  const credentials = new Set<string>();
  const schemes = new Set<string>();
  let username: string | undefined;
  let password: string | undefined;
  const seeds = value.split(',').map((seed) => seed.trim());
  for (const seed of seeds) {
    const explicit = seed.includes('://');
    let url: URL | undefined;
    try {
      url = new URL(explicit ? seed : `redis://${seed}`);
    } catch {
      url = undefined;
    }
    if (
      !url ||
      !['redis:', 'rediss:'].includes(url.protocol) ||
      !url.hostname ||
      url.search ||
      url.hash ||
      (!explicit && (url.username || url.password))
    ) {
      problems.push(`REDIS_CLUSTER_NODES: "${shown(seed)}" is not ${SEED_HELP}`);
      continue;
    }
    const port = Number(url.port);
    if (!url.port || port < 1 || port > 65535) {
      problems.push(`REDIS_CLUSTER_NODES: "${shown(seed)}" needs a port (1-65535)`);
      continue;
    }
    if (url.pathname !== '' && url.pathname !== '/') {
      problems.push(`REDIS_CLUSTER_NODES: "${shown(seed)}": a cluster has no database number`);
      continue;
    }
    if (explicit) schemes.add(url.protocol);
    if (url.username || url.password) {
      username = url.username ? decodeURIComponent(url.username) : undefined;
      password = url.password ? decodeURIComponent(url.password) : undefined;
      credentials.add(`${url.username}:${url.password}`);
    }
    nodes.push({ host: url.hostname.replace(/^\[|\]$/g, ''), port });
  }
  if (schemes.size > 1) {
    problems.push(
      'REDIS_CLUSTER_NODES: mixes redis:// and rediss:// seeds (TLS is all or nothing)',
    );
  }
  if (credentials.size > 1) {
    problems.push('REDIS_CLUSTER_NODES: seeds name different credentials (one set for every node)');
  }
  if (problems.length > 0) return { config: undefined, problems };
  return { config: { nodes, username, password, tls: schemes.has('rediss:') }, problems: [] };
}

/** The seeds for a log line (no credentials). */
export function describeClusterNodes(config: RedisClusterConfig): string {
  const seeds = config.nodes.map(
    (n) => `${n.host.includes(':') ? `[${n.host}]` : n.host}:${n.port}`,
  );
  return `cluster ${config.tls ? '(TLS) ' : ''}${seeds.join(',')}`;
}

/**
 * The service's connection to a Redis Cluster, handed to BullMQ (which needs
 * `maxRetriesPerRequest: null` for its blocking commands) and, through it, to the notifications
 * library.
 */
export function createRedisCluster(config: RedisClusterConfig): Cluster {
  return new Cluster(config.nodes, {
    redisOptions: {
      username: config.username,
      password: config.password,
      tls: config.tls ? {} : undefined,
      maxRetriesPerRequest: null,
    },
    // With TLS, certificates name the nodes' hosts: connect to them as announced.
    dnsLookup: config.tls ? (address, callback) => callback(null, address) : undefined,
  });
}
