import calculateSlot from 'cluster-key-slot';
import type { ChainableCommander } from 'ioredis';
import { isCluster, type RedisConnection } from './cluster-connection.js';

type Replies = [error: Error | null, result: unknown][];

/** Replicas that must acknowledge a batch's writes before it counts as stored. */
export interface ReplicaAck {
  replicas: number;
  timeoutMs: number;
}

/** Fewer replicas than required acknowledged a batch's writes in time: the job is to be retried. */
export class ReplicaAckError extends Error {
  override readonly name = 'ReplicaAckError';
}

interface NodeGroup {
  node: string;
  pipeline: ChainableCommander;
  /** Position in the whole batch of each command of this group, in order. */
  positions: number[];
}

/**
 * A pipeline for the store's batches. On one Redis without a replica acknowledgement it is the
 * connection's own pipeline. Otherwise it takes the same calls (`pipeline.notifAppend(...)`), sends
 * them as one pipeline per node that serves their first key (one round trip per node, all nodes at
 * once), optionally followed by `WAIT` on each, and answers `exec()` like a single pipeline: replies
 * in call order.
 */
export function storePipeline(redis: RedisConnection, ack: ReplicaAck): ChainableCommander {
  if (!isCluster(redis) && ack.replicas === 0) return redis.pipeline();
  const groups = new Map<string, NodeGroup>();
  let size = 0;
  const groupOf = (key: unknown): NodeGroup => {
    // A key whose slot's owner is not known yet goes with the others of unknown owner: ioredis
    // routes that pipeline itself (and answers MOVED with a retry).
    const node = isCluster(redis) ? (redis.slots[calculateSlot(String(key))]?.[0] ?? '?') : '';
    let group = groups.get(node);
    if (!group) {
      group = { node, pipeline: redis.pipeline(), positions: [] };
      groups.set(node, group);
    }
    return group;
  };
  const exec = async (): Promise<Replies> => {
    const replies: Replies = [];
    await Promise.all(
      [...groups.values()].map(async (group) => {
        if (ack.replicas > 0) group.pipeline.call('WAIT', ack.replicas, ack.timeoutMs);
        const answers = (await group.pipeline.exec()) ?? [];
        group.positions.forEach((position, i) => (replies[position] = answers[i]));
        if (ack.replicas === 0) return;
        const [error, acked] = answers[answers.length - 1] ?? [null, 0];
        if (error) throw error;
        if (Number(acked) < ack.replicas) {
          throw new ReplicaAckError(
            `only ${Number(acked)} of ${ack.replicas} replicas acknowledged the writes within ` +
              `${ack.timeoutMs} ms${group.node ? ` on ${group.node}` : ''}`,
          );
        }
      }),
    );
    return replies;
  };
  const batch: object = new Proxy(
    {},
    {
      get(_target, name) {
        if (name === 'exec') return exec;
        if (name === 'length') return size;
        if (typeof name !== 'string' || name === 'then') return undefined;
        return (...args: unknown[]) => {
          const group = groupOf(args[0]);
          group.positions.push(size++);
          (group.pipeline as unknown as Record<string, (...a: unknown[]) => unknown>)[name](
            ...args,
          );
          return batch;
        };
      },
    },
  );
  return batch as ChainableCommander;
}
