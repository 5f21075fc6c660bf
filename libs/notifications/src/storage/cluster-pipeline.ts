import calculateSlot from 'cluster-key-slot';
import type { ChainableCommander, Redis } from 'ioredis';
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

/** A command called on a batch: its name and arguments. */
type Call = [name: string, args: unknown[]];
/** A connection's or a pipeline's commands, by name. */
type Commands = Record<string, (...args: unknown[]) => unknown>;

/**
 * A batch of calls taking the same calls as a pipeline (`pipeline.notifAppend(...)`) and answering
 * `exec()` like one. Names that are not commands (`then`, symbols) are undefined, so that a batch is
 * never mistaken for a promise.
 */
function recordingBatch(
  record: (call: Call) => void,
  exec: () => Promise<Replies>,
  size: () => number,
): ChainableCommander {
  const batch: object = new Proxy(
    {},
    {
      get(_target, name) {
        if (name === 'exec') return exec;
        if (name === 'length') return size();
        if (typeof name !== 'string' || name === 'then') return undefined;
        return (...args: unknown[]) => {
          record([name, args]);
          return batch;
        };
      },
    },
  );
  return batch as ChainableCommander;
}

/**
 * The batch of one Redis: a pipeline of the connection when it holds two commands or more, and the
 * command sent by itself when it holds one. ioredis builds every pipeline with a copy of each script
 * the connection defines (23 on the store's: 5.4 KB and about 20 µs per pipeline), which the
 * commands of a quiet moment, one per batch, would pay each time.
 */
function singleRedisBatch(redis: Redis): ChainableCommander {
  const calls: Call[] = [];
  const exec = async (): Promise<Replies> => {
    if (calls.length === 0) return [];
    if (calls.length === 1) {
      const [name, args] = calls[0];
      const reply = (redis as unknown as Commands)[name](...args) as Promise<unknown>;
      return reply.then(
        (result): Replies => [[null, result]],
        (error: Error): Replies => [[error, undefined]],
      );
    }
    const pipeline = redis.pipeline() as unknown as Commands & ChainableCommander;
    for (const [name, args] of calls) pipeline[name](...args);
    return (await pipeline.exec()) ?? [];
  };
  return recordingBatch(
    (call) => calls.push(call),
    exec,
    () => calls.length,
  );
}

/**
 * A pipeline for the store's batches. On one Redis without a replica acknowledgement it is the
 * connection's own pipeline (or its one command alone, see `singleRedisBatch`). Otherwise it takes
 * the same calls, sends them as one pipeline per node that serves their first key (one round trip per
 * node, all nodes at once), optionally followed by `WAIT` on each, and answers `exec()` like a single
 * pipeline: replies in call order.
 */
export function storePipeline(redis: RedisConnection, ack: ReplicaAck): ChainableCommander {
  if (!isCluster(redis) && ack.replicas === 0) return singleRedisBatch(redis);
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
        // A slot moved under a pipeline that also wrote elsewhere: ioredis hands `MOVED` back for
        // each of its commands (not run) without learning the new owner. The caller retries them
        // (a transient error); the map is to be current by then.
        if (isCluster(redis) && answers.some(([error]) => error?.message.startsWith('MOVED '))) {
          redis.refreshSlotsCache();
        }
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
  return recordingBatch(
    ([name, args]) => {
      const group = groupOf(args[0]);
      group.positions.push(size++);
      (group.pipeline as unknown as Commands)[name](...args);
    },
    exec,
    () => size,
  );
}
