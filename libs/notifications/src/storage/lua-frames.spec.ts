import type {
  Notification,
  NotificationEventData,
  ServerFrame,
  UnreadEventData,
} from '@rtnotify/protocol';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { inject } from 'vitest';
import { NotificationsSettings } from '../notifications.settings.js';
import type { NotificationsRedis } from './notifications-redis.js';
import { RedisKeys } from './redis-keys.js';
import { RedisNotificationStore } from './redis-notification.store.js';

/*
 * The store's Lua scripts write the `notification` and `unread` frames themselves (no JSON decoding
 * on the hot path), so nothing in TypeScript checks them against @rtnotify/protocol. This spec
 * round-trips what they write through the protocol's types: each key set below is tied to its type
 * at compile time (`satisfies Record<keyof T, …>` fails on a missing or an extra key), and each frame
 * must have exactly those keys, with values of the right kinds.
 */

const FRAME_KEYS = keys({ event: 0, data: 0 } satisfies Record<keyof ServerFrame, 0>);
const NOTIFICATION_EVENT_KEYS = keys({
  notification: 0,
  unread: 0,
} satisfies Record<keyof NotificationEventData, 0>);
const NOTIFICATION_KEYS = keys({
  id: 0,
  type: 0,
  payload: 0,
  createdAt: 0,
  read: 0,
} satisfies Record<keyof Notification, 0>);
const UNREAD_EVENT_KEYS = keys({ unread: 0 } satisfies Record<keyof UnreadEventData, 0>);

function keys(record: object): string[] {
  return Object.keys(record).sort();
}

/** A frame as the protocol types it, after checking every key and value kind. */
function asNotificationFrame(raw: string): ServerFrame<'notification'> {
  const frame = JSON.parse(raw) as ServerFrame<'notification'>;
  expect(keys(frame)).toEqual(FRAME_KEYS);
  expect(frame.event).toBe('notification');
  expect(keys(frame.data)).toEqual(NOTIFICATION_EVENT_KEYS);
  expect(typeof frame.data.unread).toBe('number');
  expectNotification(frame.data.notification);
  return frame;
}

function expectNotification(notification: Notification): void {
  expect(keys(notification)).toEqual(NOTIFICATION_KEYS);
  expect(notification).toEqual({
    id: expect.any(String),
    type: expect.any(String),
    payload: expect.any(Object),
    createdAt: expect.any(String),
    read: expect.any(Boolean),
  });
  expect(new Date(notification.createdAt).toISOString()).toBe(notification.createdAt);
}

describe('frames written by the Lua scripts, through the protocol types', () => {
  let redis: Redis;
  let subscriber: Redis;
  let sut: RedisNotificationStore;
  let keyPrefix: string;
  const messages: string[] = [];

  beforeAll(async () => {
    redis = new Redis(inject('redisUrl'));
    subscriber = new Redis(inject('redisUrl'));
    subscriber.on('message', (_channel: string, message: string) => messages.push(message));
    keyPrefix = `spec:frames:${randomUUID()}`;
    const settings = new NotificationsSettings({ keyPrefix, historyLimit: 10 });
    sut = new RedisNotificationStore({ client: redis } as NotificationsRedis, settings);
    await subscriber.subscribe(new RedisKeys(keyPrefix).forUser('ada').channel);
  });
  afterAll(async () => {
    await subscriber.quit();
    await redis.quit();
  });

  /** The frame part of the next message on the user's channel (after its header line). */
  async function nextFrame(): Promise<string> {
    while (messages.length === 0) await once(subscriber, 'message');
    const message = messages.shift()!;
    return message.slice(message.indexOf('\n') + 1);
  }

  it('notification: exactly the protocol fields, with what was stored', async () => {
    const payload = { text: 'quote " backslash \\ and ünïcödé', nested: { list: [1, null] } };
    const [stored] = await sut.append([
      {
        userId: 'ada',
        type: 'comment.created',
        payloadJson: JSON.stringify(payload),
        dedupeKey: 'a',
      },
    ]);

    const frame = asNotificationFrame(await nextFrame());

    expect(frame.data).toEqual({
      notification: {
        id: stored.id,
        type: 'comment.created',
        payload,
        createdAt: expect.any(String),
        read: false,
      },
      unread: stored.unread,
    } satisfies NotificationEventData);
  });

  it('unread: exactly the protocol fields', async () => {
    const [stored] = await sut.append([
      { userId: 'ada', type: 'x.y', payloadJson: '{}', dedupeKey: 'b' },
    ]);
    await nextFrame();
    await sut.markRead('ada', { ids: [stored.id] });

    const frame = JSON.parse(await nextFrame()) as ServerFrame<'unread'>;

    expect(keys(frame)).toEqual(FRAME_KEYS);
    expect(frame.event).toBe('unread');
    expect(keys(frame.data)).toEqual(UNREAD_EVENT_KEYS);
    expect(frame.data).toEqual({ unread: 1 } satisfies UnreadEventData);
  });

  it('replayed notifications and inbox items: the same shape, with the read flag', async () => {
    const replay = await sut.replay('ada', `${(await sut.replay('ada', undefined)).head.epoch}-0`);
    const frames = replay.frames.map(asNotificationFrame);
    const page = await sut.list('ada', { limit: 10 });
    page.items.forEach(expectNotification);

    expect(frames.map((f) => f.data.notification.read)).toEqual([false, true]);
    expect(page.items.map((item) => item.read)).toEqual([true, false]);
  });
});
