import { Injectable } from '@nestjs/common';
import type { ChainableCommander, Result } from 'ioredis';
import { NotificationsSettings } from '../notifications.settings.js';
import { isCluster, type RedisConnection } from './cluster-connection.js';
import { storePipeline } from './cluster-pipeline.js';
import { NotificationsRedis } from './notifications-redis.js';
import { PRESENCE_LEAVE_SCRIPT, PRESENCE_REFRESH_SCRIPT } from './presence-scripts.js';
import { PresenceStore, type PresenceWrite } from './presence.store.js';
import { RedisKeys } from './redis-keys.js';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** On one Redis: the number of keys, the keys, then ARGV; on a cluster: one key, then ARGV. */
    presenceRefresh(...args: (string | number)[]): Result<number, Context>;
    presenceLeave(...args: (string | number)[]): Result<number, Context>;
  }
}

/** Users per pipeline: a reconnect storm's batch goes out in slices, not as one huge write. */
const SLICE = 1000;
/**
 * Users per script call on one Redis: the refreshes of 10,000 connected users (about 1,200 a second
 * with the default ping interval) are a dozen calls a second, not a command each. On a cluster a
 * call names one user: the keys of a call must share a slot.
 */
const USERS_PER_CALL = 100;

/**
 * Presence on Redis: one ZSET per user under the user's hash tag. Batches go out as pipelines, one
 * per node on a Redis Cluster (no cross-slot pipeline): on one Redis a script call per
 * USERS_PER_CALL users, on a cluster one per user.
 */
@Injectable()
export class RedisPresenceStore extends PresenceStore {
  private readonly redis: RedisConnection;
  private readonly keys: RedisKeys;
  private readonly cluster: boolean;

  constructor(connection: NotificationsRedis, settings: NotificationsSettings) {
    super();
    this.redis = connection.client;
    this.cluster = isCluster(this.redis);
    this.keys = new RedisKeys(settings.keyPrefix, this.cluster);
    // On a cluster the key comes first, so that the pipeline routes each call by it.
    const numberOfKeys = this.cluster ? 1 : undefined;
    this.redis.defineCommand('presenceRefresh', { numberOfKeys, lua: PRESENCE_REFRESH_SCRIPT });
    this.redis.defineCommand('presenceLeave', { numberOfKeys, lua: PRESENCE_LEAVE_SCRIPT });
  }

  async write({ instanceId, present, deadline, absent, now }: PresenceWrite): Promise<void> {
    const calls = [
      ...this.calls(present, (pipeline, keys) =>
        pipeline.presenceRefresh(...keys, instanceId, deadline, now),
      ),
      ...this.calls(absent, (pipeline, keys) => pipeline.presenceLeave(...keys, instanceId)),
    ];
    const callsPerPipeline = SLICE / this.usersPerCall;
    for (let start = 0; start < calls.length; start += callsPerPipeline) {
      const pipeline = this.batch();
      for (const add of calls.slice(start, start + callsPerPipeline)) add(pipeline);
      for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
    }
  }

  async online(userIds: readonly string[], now: number): Promise<boolean[]> {
    const answers: boolean[] = [];
    for (let start = 0; start < userIds.length; start += SLICE) {
      const pipeline = this.batch();
      for (const userId of userIds.slice(start, start + SLICE)) {
        pipeline.zcount(this.keys.keyOf(userId, 'presence'), `(${now}`, '+inf');
      }
      for (const [error, count] of (await pipeline.exec()) ?? []) {
        if (error) throw error;
        answers.push(Number(count) > 0);
      }
    }
    return answers;
  }

  /** Users per script call: USERS_PER_CALL on one Redis, one on a cluster. */
  private get usersPerCall(): number {
    return this.cluster ? 1 : USERS_PER_CALL;
  }

  /**
   * The script calls for `userIds`, `usersPerCall` at a time, each given its users' keys as the
   * scripts take them: on one Redis the number of keys first, on a cluster the one key.
   */
  private calls(
    userIds: readonly string[],
    call: (pipeline: ChainableCommander, keys: (string | number)[]) => unknown,
  ): ((pipeline: ChainableCommander) => unknown)[] {
    const calls: ((pipeline: ChainableCommander) => unknown)[] = [];
    for (let first = 0; first < userIds.length; first += this.usersPerCall) {
      const keys = userIds
        .slice(first, first + this.usersPerCall)
        .map((userId) => this.keys.keyOf(userId, 'presence'));
      const args = this.cluster ? keys : [keys.length, ...keys];
      calls.push((pipeline) => call(pipeline, args));
    }
    return calls;
  }

  /** A pipeline: one per node on a cluster. */
  private batch(): ChainableCommander {
    return storePipeline(this.redis, { replicas: 0, timeoutMs: 0 });
  }
}
