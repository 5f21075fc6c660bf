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
    presenceRefresh(key: string, ...args: (string | number)[]): Result<number, Context>;
    presenceLeave(key: string, instanceId: string): Result<number, Context>;
  }
}

/** Commands per pipeline: a reconnect storm's batch goes out in slices, not as one huge write. */
const SLICE = 1000;

/**
 * Presence on Redis: one ZSET per user under the user's hash tag. Batches go out as pipelines, one
 * per node on a Redis Cluster (no cross-slot pipeline), one command per user each.
 */
@Injectable()
export class RedisPresenceStore extends PresenceStore {
  private readonly redis: RedisConnection;
  private readonly keys: RedisKeys;

  constructor(connection: NotificationsRedis, settings: NotificationsSettings) {
    super();
    this.redis = connection.client;
    this.keys = new RedisKeys(settings.keyPrefix, isCluster(this.redis));
    this.redis.defineCommand('presenceRefresh', { numberOfKeys: 1, lua: PRESENCE_REFRESH_SCRIPT });
    this.redis.defineCommand('presenceLeave', { numberOfKeys: 1, lua: PRESENCE_LEAVE_SCRIPT });
  }

  async write({ instanceId, present, deadline, absent, now }: PresenceWrite): Promise<void> {
    const commands = [
      ...present.map(
        (userId) => (pipeline: ChainableCommander) =>
          pipeline.presenceRefresh(this.keys.forUser(userId).presence, instanceId, deadline, now),
      ),
      ...absent.map(
        (userId) => (pipeline: ChainableCommander) =>
          pipeline.presenceLeave(this.keys.forUser(userId).presence, instanceId),
      ),
    ];
    for (let start = 0; start < commands.length; start += SLICE) {
      const pipeline = this.batch();
      for (const add of commands.slice(start, start + SLICE)) add(pipeline);
      for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
    }
  }

  async online(userIds: readonly string[], now: number): Promise<boolean[]> {
    const answers: boolean[] = [];
    for (let start = 0; start < userIds.length; start += SLICE) {
      const pipeline = this.batch();
      for (const userId of userIds.slice(start, start + SLICE)) {
        pipeline.zcount(this.keys.forUser(userId).presence, `(${now}`, '+inf');
      }
      for (const [error, count] of (await pipeline.exec()) ?? []) {
        if (error) throw error;
        answers.push(Number(count) > 0);
      }
    }
    return answers;
  }

  /** A pipeline: one per node on a cluster. */
  private batch(): ChainableCommander {
    return storePipeline(this.redis, { replicas: 0, timeoutMs: 0 });
  }
}
