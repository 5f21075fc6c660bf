import type { Cluster } from 'ioredis';
import { withTimeout } from '../utils/with-timeout.util.js';

const NODE_TIMEOUT_MS = 800;

/**
 * The cluster's health as every master the client knows sees it (`CLUSTER INFO`): resolves with the
 * state when each says `cluster_state:ok`, rejects naming the first node that does not or does not
 * answer.
 */
export async function clusterHealth(cluster: Cluster): Promise<Record<string, string | number>> {
  if (cluster.status !== 'ready') throw new Error(`redis cluster ${cluster.status}`);
  const masters = cluster.nodes('master');
  if (masters.length === 0) throw new Error('redis cluster: no master known');
  await Promise.all(
    masters.map(async (node) => {
      const address = `${node.options.host}:${node.options.port}`;
      const info = await withTimeout(
        node.cluster('INFO'),
        NODE_TIMEOUT_MS,
        () => new Error(`redis cluster: ${address} did not answer`),
      );
      const state = /cluster_state:(\w+)/.exec(info)?.[1] ?? 'unknown';
      if (state !== 'ok') throw new Error(`redis cluster: cluster_state ${state} on ${address}`);
    }),
  );
  return { mode: 'cluster', cluster_state: 'ok', masters: masters.length };
}
