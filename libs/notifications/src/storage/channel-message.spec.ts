import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { inject } from 'vitest';
import { NotificationsSettings } from '../notifications.settings.js';
import { decodeChannelMessage, encodeChannelMessage } from './channel-message.js';
import type { NotificationsRedis } from './notifications-redis.js';
import { RedisKeys } from './redis-keys.js';
import { RedisNotificationStore } from './redis-notification.store.js';

describe('channel message', () => {
  describe(decodeChannelMessage.name, () => {
    it('reads the header and keeps the frame as it is, spaces and newlines included', () => {
      const frame = '{"event":"unread","data":{"unread":3}}\n trailing';

      const sut = decodeChannelMessage('ada', `e1 7 e1-4 1700000000000\n${frame}`);

      expect(sut).toEqual({
        userId: 'ada',
        epoch: 'e1',
        version: 7,
        id: 'e1-4',
        enqueuedAt: 1_700_000_000_000,
        frame,
      });
    });

    it("leaves out the id of a frame without a notification ('-')", () => {
      const sut = decodeChannelMessage('ada', 'e1 8 - 0\n{}');

      expect(sut).toEqual({ userId: 'ada', epoch: 'e1', version: 8, enqueuedAt: 0, frame: '{}' });
      expect(sut).not.toHaveProperty('id');
    });

    it('reads an unknown enqueue time as 0', () => {
      expect(decodeChannelMessage('ada', 'e1 1 e1-1 soon\n{}')?.enqueuedAt).toBe(0);
    });

    it('refuses a message without a header line', () => {
      expect(decodeChannelMessage('ada', '{"event":"unread"}')).toBeUndefined();
    });
  });

  describe('round trip through the real scripts', () => {
    let redis: Redis;
    let subscriber: Redis;
    let store: RedisNotificationStore;
    const raw: string[] = [];

    async function nextRaw(): Promise<string> {
      while (raw.length === 0) await once(subscriber, 'message');
      return raw.shift()!;
    }

    beforeAll(async () => {
      redis = new Redis(inject('redisUrl'));
      subscriber = new Redis(inject('redisUrl'));
      subscriber.on('message', (_channel: string, message: string) => raw.push(message));
      const keyPrefix = `spec:channel:${randomUUID()}`;
      const settings = new NotificationsSettings({ keyPrefix });
      store = new RedisNotificationStore({ client: redis } as NotificationsRedis, settings);
      await subscriber.subscribe(new RedisKeys(keyPrefix).forUser('ada').channel);
    });

    afterAll(async () => {
      await subscriber.quit();
      await redis.quit();
    });

    it('decodes what APPEND publishes, and encodes it back to the same bytes', async () => {
      const [stored] = await store.append([
        { userId: 'ada', type: 'x.y', payloadJson: '{"n":1}', dedupeKey: 'a', enqueuedAt: 42 },
      ]);
      const message = await nextRaw();

      const sut = decodeChannelMessage('ada', message);

      const head = (await store.replay('ada', undefined)).head;
      expect(sut).toEqual({
        userId: 'ada',
        epoch: head.epoch,
        version: head.version,
        id: stored.id,
        enqueuedAt: 42,
        frame: expect.stringMatching(/^\{"event":"notification",/),
      });
      expect(JSON.parse(sut!.frame)).toMatchObject({
        data: { notification: { id: stored.id, payload: { n: 1 } }, unread: 1 },
      });
      expect(encodeChannelMessage(sut!)).toBe(message);
    });

    /** Decodes the next message, checks its header against the user's head, and round-trips it. */
    async function expectFrameOnly(frame: unknown): Promise<void> {
      const message = await nextRaw();

      const sut = decodeChannelMessage('ada', message);

      expect(sut).toEqual({
        userId: 'ada',
        epoch: (await store.replay('ada', undefined)).head.epoch,
        version: expect.any(Number),
        enqueuedAt: 0,
        frame: expect.any(String),
      });
      expect(sut).not.toHaveProperty('id');
      expect(JSON.parse(sut!.frame)).toEqual(frame);
      expect(encodeChannelMessage(sut!)).toBe(message);
    }

    it('decodes what a collapse publishes after the notification (removed, collapsed)', async () => {
      const [first] = await store.append([
        { userId: 'ada', type: 'x.y', payloadJson: '{}', dedupeKey: 'c1', collapseKey: 'k' },
      ]);
      await nextRaw();
      const [second] = await store.append([
        { userId: 'ada', type: 'x.y', payloadJson: '{}', dedupeKey: 'c2', collapseKey: 'k' },
      ]);

      const notification = decodeChannelMessage('ada', await nextRaw());

      expect(notification?.id).toBe(second.id);
      expect(JSON.parse(notification!.frame)).toMatchObject({
        event: 'notification',
        data: { notification: { id: second.id, replaces: first.id, collapsedCount: 2 } },
      });
      await expectFrameOnly({
        event: 'removed',
        data: {
          ids: [first.id],
          reason: 'collapsed',
          counts: { unread: 2, unseen: 2, categories: {} },
        },
      });
    });

    it('decodes what MARK publishes (marked, then unread when that count moved)', async () => {
      await store.mark('ada', { as: 'read', all: true });

      await expectFrameOnly({
        event: 'marked',
        data: { as: 'read', all: true, counts: { unread: 0, unseen: 0, categories: {} } },
      });
      await expectFrameOnly({ event: 'unread', data: { unread: 0 } });
    });

    it('decodes what an expiry publishes (removed, expired, then unread)', async () => {
      const expiresAt = new Date(Date.now() + 50).toISOString();
      const [stored] = await store.append([
        { userId: 'ada', type: 'x.y', payloadJson: '{}', dedupeKey: 'e', expiresAt },
      ]);
      await nextRaw();
      await vi.waitFor(
        async () => expect((await store.sweepExpired()).removed).toBeGreaterThan(0),
        { timeout: 5000, interval: 20 },
      );

      await expectFrameOnly({
        event: 'removed',
        data: {
          ids: [stored.id],
          reason: 'expired',
          counts: { unread: 0, unseen: 0, categories: {} },
        },
      });
      await expectFrameOnly({ event: 'unread', data: { unread: 0 } });
    });
  });
});
