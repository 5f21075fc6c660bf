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

    it('decodes what MARK_READ publishes (no id, no enqueue time), and encodes it back', async () => {
      await store.markRead('ada', { all: true });
      const message = await nextRaw();

      const sut = decodeChannelMessage('ada', message);

      const head = (await store.replay('ada', undefined)).head;
      expect(sut).toEqual({
        userId: 'ada',
        epoch: head.epoch,
        version: head.version,
        enqueuedAt: 0,
        frame: '{"event":"unread","data":{"unread":0}}',
      });
      expect(encodeChannelMessage(sut!)).toBe(message);
    });
  });
});
