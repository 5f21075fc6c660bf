import {
  InvalidNotificationError,
  NotificationService,
  NotificationsModule,
} from '@rtnotify/nestjs';
import { BullModule } from '@nestjs/bullmq';
import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import { Test } from '@nestjs/testing';
import { inject } from 'vitest';
import { redisOptionsFromUrl } from '../src/redis/redis-url.js';
import { isolatedEnv } from './kit/test-app.js';
import { TEST_JWT_SECRET, signToken } from './kit/tokens.mjs';
import { closeAfterEach, TestClient } from './kit/ws-client.js';

/** Another module of the host application, which only knows NotificationService. */
@Injectable()
class CommentsService {
  constructor(private readonly notifications: NotificationService) {}

  async addComment(postAuthor: string, text: string) {
    return this.notifications.notify(postAuthor, {
      type: 'comment.created',
      payload: { text },
    });
  }

  async announce(users: string[]) {
    return this.notifications.notifyMany(users, { type: 'release.published' });
  }

  async broken() {
    return this.notifications.notify('someone', { type: 'NOT VALID', payload: { x: 1 } });
  }
}

@Module({ providers: [CommentsService] })
class CommentsModule {}

describe.each(['forRoot', 'forRootAsync'] as const)(
  'NotificationService injected elsewhere, %s (e2e)',
  (how) => {
    let app: INestApplication;
    let wsUrl: string;
    const track = closeAfterEach();

    beforeAll(async () => {
      const { NOTIFY_QUEUE, KEY_PREFIX } = isolatedEnv();
      const options = { jwt: { secret: TEST_JWT_SECRET }, keyPrefix: KEY_PREFIX };
      const notifications =
        how === 'forRoot'
          ? NotificationsModule.forRoot({ ...options, isGlobal: true, queueName: NOTIFY_QUEUE })
          : NotificationsModule.forRootAsync({
              isGlobal: true,
              queueName: NOTIFY_QUEUE,
              useFactory: async () => options,
            });
      const moduleRef = await Test.createTestingModule({
        imports: [
          BullModule.forRoot({ connection: redisOptionsFromUrl(inject('redisUrl')) }),
          notifications,
          CommentsModule,
        ],
      }).compile();
      app = moduleRef.createNestApplication({ logger: false });
      app.useWebSocketAdapter(new WsAdapter(app));
      await app.listen(0, '127.0.0.1');
      wsUrl = `ws://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}/ws`;
    });
    afterAll(async () => {
      await app.close();
    });

    async function tab(userId: string) {
      const client = await TestClient.ready(wsUrl, { token: await signToken(userId) });
      track(client);
      return client;
    }

    it('delivers what another module sends through notify()', async () => {
      const author = await tab('author');
      const { jobId } = await app.get(CommentsService).addComment('author', 'nice post');
      expect(jobId).toBeTruthy();
      const { notification, unread } = await author.next('notification');
      expect(notification).toMatchObject({
        type: 'comment.created',
        payload: { text: 'nice post' },
      });
      expect(unread).toBe(1);
    });

    it('delivers notifyMany() to each user', async () => {
      const tabs = [await tab('r1'), await tab('r2')];
      await app.get(CommentsService).announce(['r1', 'r2']);
      for (const client of tabs) {
        expect((await client.next('notification')).notification.type).toBe('release.published');
      }
    });

    it('throws a typed error naming the field, and enqueues nothing', async () => {
      const error = await app
        .get(CommentsService)
        .broken()
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidNotificationError);
      expect((error as InvalidNotificationError).fields).toEqual(['type']);
    });
  },
);
