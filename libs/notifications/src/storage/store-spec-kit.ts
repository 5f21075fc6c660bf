import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { parseNotificationId, type InboxPage, type Notification } from '@rtnotify/protocol';
import type { AppendRequest, AppendResult } from './notification.store.js';
import { NotificationsSettings } from '../notifications.settings.js';
import type { NotificationsRedis } from './notifications-redis.js';
import { RedisKeys } from './redis-keys.js';
import { RedisNotificationStore } from './redis-notification.store.js';

/*
 * What the specs of the store (redis-notification.store.*.spec.ts) share. They run against the real
 * Redis the test run starts. Every test (and every fast-check run) writes under its own random key
 * prefix, so nothing leaks between them. Test-only: tsconfig.build.json leaves *-spec-kit.ts out of
 * the package.
 */

export interface ReplayFrame {
  event: string;
  data: { notification: Notification; unread: number };
}

/** The connection of the spec file that called useRedis(), open while its tests run. */
export let redis: Redis;

/** Opens `redis` before the tests of the calling spec file and closes it after them. */
export function useRedis(): void {
  beforeAll(() => {
    redis = new Redis(inject('redisUrl'));
  });

  afterAll(async () => {
    await redis.quit();
  });
}

export function createSut(options: { historyLimit: number; historyMaxAgeSeconds?: number }): {
  sut: RedisNotificationStore;
  keys: RedisKeys;
  keyPrefix: string;
} {
  const keyPrefix = `spec:store:${randomUUID()}`;
  const settings = new NotificationsSettings({ keyPrefix, ...options });
  const connection = { client: redis } as NotificationsRedis;
  return {
    sut: new RedisNotificationStore(connection, settings),
    keys: new RedisKeys(keyPrefix),
    keyPrefix,
  };
}

export function request(userId: string, dedupeKey: string, n = 0): AppendRequest {
  return { userId, type: 'spec.item', payloadJson: JSON.stringify({ n }), dedupeKey };
}

export async function appendOne(
  sut: RedisNotificationStore,
  userId: string,
  dedupeKey: string,
  n = 0,
): Promise<AppendResult> {
  const [result] = await sut.append([request(userId, dedupeKey, n)]);
  return result;
}

/** Appends `count` notifications one by one, each with a dedupe key never used before. */
export async function appendMany(
  sut: RedisNotificationStore,
  userId: string,
  count: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 0; n < count; n++) ids.push((await appendOne(sut, userId, randomUUID(), n)).id);
  return ids;
}

export function seqOf(id: string): number {
  const parsed = parseNotificationId(id);
  if (!parsed) throw new Error(`not a notification id: ${id}`);
  return parsed.seq;
}

export function epochOf(id: string): string {
  const parsed = parseNotificationId(id);
  if (!parsed) throw new Error(`not a notification id: ${id}`);
  return parsed.epoch;
}

export function idsOf(page: InboxPage): string[] {
  return page.items.map((item) => item.id);
}

export const byCodeUnits = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);

export function parseFrames(frames: string[]): ReplayFrame[] {
  return frames.map((frame) => JSON.parse(frame) as ReplayFrame);
}
