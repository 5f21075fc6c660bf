import { Injectable } from '@nestjs/common';
import type { Result } from 'ioredis';
import { NotificationsSettings } from '../notifications.settings.js';
import { isCluster, type RedisConnection } from './cluster-connection.js';
import { LEGACY_KEY_ORDER } from './lua-scripts.js';
import { storePipeline } from './cluster-pipeline.js';
import { NotificationsRedis } from './notifications-redis.js';
import { RedisKeys } from './redis-keys.js';
import { ScheduleStore, type CancelOutcome } from './schedule.store.js';
import {
  SCHEDULE_CANCEL_SCRIPT,
  SCHEDULE_CLAIM_SCRIPT,
  SCHEDULE_FORGET_SCRIPT,
  SCHEDULE_RECORD_SCRIPT,
} from './schedule-scripts.js';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    notifScheduleRecord(key: string, dedupeKey: string, jobId: string): Result<number, Context>;
    notifScheduleClaim(key: string, dedupeKey: string, jobId: string): Result<number, Context>;
    notifScheduleForget(key: string, dedupeKey: string, state: string): Result<number, Context>;
    notifScheduleCancel(
      scheduled: string,
      dedupe: string,
      legacyDedupe: string,
      dedupeKey: string,
    ): Result<[string, string?], Context>;
  }
}

type PerUserCommand = 'notifScheduleRecord' | 'notifScheduleClaim' | 'notifScheduleForget';

/** The scheduled notifications in each user's `s` hash; see schedule-scripts.ts. */
@Injectable()
export class RedisScheduleStore extends ScheduleStore {
  private readonly keys: RedisKeys;
  private readonly redis: RedisConnection;

  constructor(
    connection: NotificationsRedis,
    private readonly settings: NotificationsSettings,
  ) {
    super();
    this.redis = connection.client;
    this.keys = new RedisKeys(settings.keyPrefix, isCluster(this.redis));
    this.redis.defineCommand('notifScheduleRecord', {
      numberOfKeys: 1,
      lua: SCHEDULE_RECORD_SCRIPT,
    });
    this.redis.defineCommand('notifScheduleClaim', { numberOfKeys: 1, lua: SCHEDULE_CLAIM_SCRIPT });
    this.redis.defineCommand('notifScheduleForget', {
      numberOfKeys: 1,
      lua: SCHEDULE_FORGET_SCRIPT,
    });
    this.redis.defineCommand('notifScheduleCancel', {
      numberOfKeys: 3,
      lua: SCHEDULE_CANCEL_SCRIPT,
    });
  }

  async record(userIds: string[], dedupeKey: string, jobId: string): Promise<boolean[]> {
    return this.each('notifScheduleRecord', userIds, dedupeKey, jobId);
  }

  async unrecord(userIds: string[], dedupeKey: string, jobId: string): Promise<void> {
    await this.each('notifScheduleForget', userIds, dedupeKey, jobId);
  }

  async claim(userIds: string[], dedupeKey: string, jobId: string): Promise<boolean[]> {
    return this.each('notifScheduleClaim', userIds, dedupeKey, jobId);
  }

  async release(userIds: string[], dedupeKey: string, jobId: string): Promise<void> {
    await this.each('notifScheduleForget', userIds, dedupeKey, `f:${jobId}`);
  }

  async cancel(userId: string, dedupeKey: string): Promise<CancelOutcome> {
    const keys = this.keys.forUser(userId);
    const pipeline = storePipeline(this.redis, this.settings.replicaAck);
    const legacyDedupe = keys.legacy[LEGACY_KEY_ORDER.indexOf('d')];
    pipeline.notifScheduleCancel(keys.scheduled, keys.dedupe, legacyDedupe, dedupeKey);
    const [[error, reply]] = (await pipeline.exec()) ?? [[new Error('no reply'), null]];
    if (error) throw error;
    const [outcome, jobId] = reply as [string, string?];
    if (outcome === 'cancelled' && jobId !== undefined) return { outcome, jobId };
    return { outcome: outcome === 'fired' ? 'fired' : 'none' };
  }

  async forgetCancelled(userId: string, dedupeKey: string, jobId: string): Promise<void> {
    await this.each('notifScheduleForget', [userId], dedupeKey, `x:${jobId}`);
  }

  /** One script per user, in one round trip per node; true where it answered 1. */
  private async each(
    command: PerUserCommand,
    userIds: string[],
    dedupeKey: string,
    arg: string,
  ): Promise<boolean[]> {
    if (userIds.length === 0) return [];
    const pipeline = storePipeline(this.redis, this.settings.replicaAck);
    for (const userId of userIds) {
      pipeline[command](this.keys.forUser(userId).scheduled, dedupeKey, arg);
    }
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([error, reply]) => {
      if (error) throw error;
      return reply === 1;
    });
  }
}
