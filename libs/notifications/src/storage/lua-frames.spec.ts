import type {
  CategoryCounts,
  MarkedEventData,
  Notification,
  NotificationCounts,
  NotificationEventData,
  RemovedEventData,
  ServerFrame,
  UnreadEventData,
} from '@rtnotify/protocol';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { inject } from 'vitest';
import { NotificationsSettings } from '../notifications.settings.js';
import { decodeChannelMessage } from './channel-message.js';
import type { NotificationsRedis } from './notifications-redis.js';
import { RedisKeys } from './redis-keys.js';
import { RedisNotificationStore } from './redis-notification.store.js';

/*
 * The store's Lua scripts write the `notification`, `unread`, `marked` and `removed` frames
 * themselves (no JSON decoding on the hot path), so nothing in TypeScript checks them against
 * @rtnotify/protocol. This spec round-trips what they write through the protocol's types: each key
 * set below is tied to its type at compile time (`satisfies Record<keyof T, …>` fails on a missing or
 * an extra key), and each frame must have exactly those keys (the optional ones only when they
 * apply), with values of the right kinds.
 */

/** The keys of `T` that are not optional. */
type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];

const FRAME_KEYS = keys({ event: 0, data: 0 } satisfies Record<keyof ServerFrame, 0>);
const NOTIFICATION_EVENT_KEYS = keys({
  notification: 0,
  unread: 0,
  counts: 0,
} satisfies Record<keyof NotificationEventData, 0>);
const NOTIFICATION_KEYS = keys({
  id: 0,
  type: 0,
  category: 0,
  payload: 0,
  createdAt: 0,
  read: 0,
  seen: 0,
  archived: 0,
  expiresAt: 0,
  collapseKey: 0,
  collapsedCount: 0,
  replaces: 0,
} satisfies Record<keyof Notification, 0>);
const NOTIFICATION_REQUIRED_KEYS = keys({
  id: 0,
  type: 0,
  payload: 0,
  createdAt: 0,
  read: 0,
  seen: 0,
  archived: 0,
} satisfies Record<RequiredKeys<Notification>, 0>);
const UNREAD_EVENT_KEYS = keys({ unread: 0 } satisfies Record<keyof UnreadEventData, 0>);
const COUNTS_KEYS = keys({
  unread: 0,
  unseen: 0,
  categories: 0,
} satisfies Record<keyof NotificationCounts, 0>);
const CATEGORY_COUNTS_KEYS = keys({ unread: 0, unseen: 0 } satisfies Record<
  keyof CategoryCounts,
  0
>);
const REMOVED_EVENT_KEYS = keys({
  ids: 0,
  reason: 0,
  counts: 0,
} satisfies Record<keyof RemovedEventData, 0>);

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
  expectCounts(frame.data.counts);
  expectNotification(frame.data.notification);
  return frame;
}

function expectNotification(notification: Notification): void {
  const present = keys(notification);
  expect(present.filter((key) => !NOTIFICATION_KEYS.includes(key))).toEqual([]);
  expect(NOTIFICATION_REQUIRED_KEYS.filter((key) => !present.includes(key))).toEqual([]);
  expect(notification).toMatchObject({
    id: expect.any(String),
    type: expect.any(String),
    payload: expect.any(Object),
    createdAt: expect.any(String),
    read: expect.any(Boolean),
    seen: expect.any(Boolean),
    archived: expect.any(Boolean),
  });
  expect(new Date(notification.createdAt).toISOString()).toBe(notification.createdAt);
  if (notification.expiresAt !== undefined) {
    expect(new Date(notification.expiresAt).toISOString()).toBe(notification.expiresAt);
  }
  for (const key of ['category', 'collapseKey', 'replaces'] as const) {
    if (key in notification) expect(typeof notification[key]).toBe('string');
  }
  if ('collapsedCount' in notification) expect(notification.collapsedCount).toBeGreaterThan(1);
}

function expectCounts(counts: NotificationCounts): void {
  expect(keys(counts)).toEqual(COUNTS_KEYS);
  expect(typeof counts.unread).toBe('number');
  expect(typeof counts.unseen).toBe('number');
  expect(counts.categories).toBeTypeOf('object');
  expect(Array.isArray(counts.categories)).toBe(false);
  for (const perCategory of Object.values(counts.categories)) {
    expect(keys(perCategory)).toEqual(CATEGORY_COUNTS_KEYS);
    expect(typeof perCategory.unread).toBe('number');
    expect(typeof perCategory.unseen).toBe('number');
  }
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

  /** The frame part of the next message on the user's channel, read as the broker reads it. */
  async function nextFrame(): Promise<string> {
    while (messages.length === 0) await once(subscriber, 'message');
    const message = decodeChannelMessage('ada', messages.shift()!);
    expect(message).toBeDefined();
    return message!.frame;
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
        seen: false,
        archived: false,
      },
      unread: stored.unread,
      counts: { unread: 1, unseen: 1, categories: {} },
    } satisfies NotificationEventData);
  });

  it('unread and marked: exactly the protocol fields', async () => {
    const [stored] = await sut.append([
      { userId: 'ada', type: 'x.y', payloadJson: '{}', dedupeKey: 'b' },
    ]);
    await nextFrame();
    await sut.markRead('ada', { ids: [stored.id] });

    const marked = JSON.parse(await nextFrame()) as ServerFrame<'marked'>;
    const unread = JSON.parse(await nextFrame()) as ServerFrame<'unread'>;

    expect(keys(marked)).toEqual(FRAME_KEYS);
    expect(marked.event).toBe('marked');
    expectCounts(marked.data.counts);
    expect(marked.data).toEqual({
      as: 'read',
      ids: [stored.id],
      counts: { unread: 1, unseen: 1, categories: {} },
    } satisfies MarkedEventData);
    expect(keys(unread)).toEqual(FRAME_KEYS);
    expect(unread.event).toBe('unread');
    expect(keys(unread.data)).toEqual(UNREAD_EVENT_KEYS);
    expect(unread.data).toEqual({ unread: 1 } satisfies UnreadEventData);
  });

  it('marked for all, with its filter', async () => {
    await sut.mark('ada', { as: 'archived', all: true, onlyRead: true });

    const marked = JSON.parse(await nextFrame()) as ServerFrame<'marked'>;

    expect(keys(marked)).toEqual(FRAME_KEYS);
    expectCounts(marked.data.counts);
    expect(marked.data).toEqual({
      as: 'archived',
      all: true,
      onlyRead: true,
      counts: { unread: 1, unseen: 1, categories: {} },
    } satisfies MarkedEventData);
    await sut.mark('ada', { as: 'unarchived', all: true });
    await nextFrame();
  });

  it('a collapsed notification and removed: the optional fields when they apply', async () => {
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const first = {
      userId: 'ada',
      type: 'comment.created',
      payloadJson: '{}',
      category: 'social',
      collapseKey: 'thread-1',
      expiresAt,
    };
    const [old] = await sut.append([{ ...first, dedupeKey: 'c1' }]);
    asNotificationFrame(await nextFrame());
    const [replacing] = await sut.append([{ ...first, dedupeKey: 'c2' }]);

    const frame = asNotificationFrame(await nextFrame());
    const removed = JSON.parse(await nextFrame()) as ServerFrame<'removed'>;

    const counts = { unread: 2, unseen: 2, categories: { social: { unread: 1, unseen: 1 } } };
    expect(frame.data.notification).toEqual({
      id: replacing.id,
      type: 'comment.created',
      category: 'social',
      payload: {},
      createdAt: expect.any(String),
      read: false,
      seen: false,
      archived: false,
      expiresAt,
      collapseKey: 'thread-1',
      collapsedCount: 2,
      replaces: old.id,
    } satisfies Notification);
    expect(frame.data.counts).toEqual(counts);
    expect(keys(removed)).toEqual(FRAME_KEYS);
    expect(removed.event).toBe('removed');
    expect(keys(removed.data)).toEqual(REMOVED_EVENT_KEYS);
    expectCounts(removed.data.counts);
    expect(removed.data).toEqual({
      ids: [old.id],
      reason: 'collapsed',
      counts,
    } satisfies RemovedEventData);
  });

  it('replayed notifications and inbox items: the same shape, with their states', async () => {
    const replay = await sut.replay('ada', `${(await sut.replay('ada', undefined)).head.epoch}-0`);
    const frames = replay.frames.map(asNotificationFrame);
    const page = await sut.list('ada', { limit: 10 });
    page.items.forEach(expectNotification);
    expectCounts(page.counts);

    expect(frames.map((f) => f.data.notification.read)).toEqual([false, true, false]);
    expect(page.items.map((item) => item.read)).toEqual([false, true, false]);
  });
});
