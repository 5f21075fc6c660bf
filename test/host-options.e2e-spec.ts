import { BullModule } from '@nestjs/bullmq';
import {
  Body,
  Controller,
  Injectable,
  Module,
  Post,
  type INestApplication,
  type ModuleMetadata,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  InboxService,
  NotificationService,
  NotificationsModule,
  NotificationsWsAdapter,
  NotificationTokenIssuer,
  type NotificationsModuleExtras,
  type NotificationsModuleOptions,
} from '@rtnotify/nestjs';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from './kit/redis.mjs';
import { redisOptionsFromUrl } from '../src/redis/redis-url.js';
import { eventually } from './kit/timing.mjs';
import { http } from './kit/http.mjs';
import { isolatedEnv } from './kit/test-app.js';
import { TEST_JWT_SECRET, signToken } from './kit/tokens.mjs';
import { TestClient } from './kit/ws-client.js';

/*
 * The module's options as a host meets them: roles (what connections an instance opens, whether it
 * consumes), the socket path, the HTTP parts under a global prefix, the error filter on the host's own
 * routes, the token issuer. On a Redis of its own, so that the connections it lists are this suite's.
 */

const API_KEY = 'host-options-key-0123456789';

/** A route of the host's own that produces through the library. */
@Controller('comments')
class CommentsController {
  constructor(private readonly notifications: NotificationService) {}

  @Post()
  comment(@Body() body: { to: string; type: string }) {
    return this.notifications.notify(body.to, { type: body.type });
  }
}

let redis: RedisServer;
let admin: Redis;
const apps: INestApplication[] = [];

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
});
afterAll(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  await admin.quit();
  await redis.stop();
});

interface Host {
  app: INestApplication;
  httpUrl: string;
  wsBase: string;
  queueName: string;
}

async function startHost(
  options: NotificationsModuleOptions & NotificationsModuleExtras,
  setup: { prefix?: string; metadata?: ModuleMetadata } = {},
): Promise<Host> {
  const { NOTIFY_QUEUE: queueName, KEY_PREFIX: keyPrefix } = isolatedEnv();
  const moduleRef = await Test.createTestingModule({
    ...setup.metadata,
    imports: [
      BullModule.forRoot({ connection: redisOptionsFromUrl(redis.url) }),
      NotificationsModule.forRoot({ keyPrefix, queueName, ...options }),
      ...(setup.metadata?.imports ?? []),
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  app.useWebSocketAdapter(new NotificationsWsAdapter(app));
  if (setup.prefix) app.setGlobalPrefix(setup.prefix);
  await app.listen(0, '127.0.0.1');
  apps.push(app);
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, httpUrl: `http://127.0.0.1:${port}`, wsBase: `ws://127.0.0.1:${port}`, queueName };
}

/** Names of the clients connected to this suite's Redis. */
async function clientNames(): Promise<string[]> {
  const list = (await admin.client('LIST')) as string;
  return [...list.matchAll(/ name=(\S*)/g)].map((match) => match[1]);
}

describe('a worker-only host', () => {
  it('needs no jwt, opens no subscriber connection, serves no socket, and stores what it consumes', async () => {
    const namesBefore = await clientNames();
    const host = await startHost({ gateway: false });
    const producer = new Queue(host.queueName, { connection: redisOptionsFromUrl(redis.url) });

    await producer.add('notify', { userId: 'w1', type: 'worker.only' });
    const inbox = host.app.get(InboxService);
    await eventually(async () => (await inbox.unreadCount('w1')) === 1, 10_000, 'stored');

    const added = (await clientNames()).filter((name) => !namesBefore.includes(name));
    expect(added).toContain('notifications-store');
    expect(added).not.toContain('notifications-subscriber');
    const socket = TestClient.connect(`${host.wsBase}/ws`, { token: await signToken('w1') });
    expect((await socket.waitClosed()).code).not.toBe(1000);
    expect(socket.frames).toEqual([]);
    await producer.close();
  });
});

describe('a gateway-only host on another socket path', () => {
  it('runs no worker and serves the socket on its path only', async () => {
    const host = await startHost({
      jwt: { secret: TEST_JWT_SECRET },
      worker: false,
      socketPath: '/live/notifications',
    });
    const producer = new Queue(host.queueName, { connection: redisOptionsFromUrl(redis.url) });
    const token = await signToken('g1');

    const client = await TestClient.ready(`${host.wsBase}/live/notifications`, { token });
    expect(client.all('ready')[0]).toMatchObject({ userId: 'g1', unread: 0 });
    const elsewhere = TestClient.connect(`${host.wsBase}/ws`, { token });
    expect((await elsewhere.waitClosed()).code).not.toBe(1000);
    expect(elsewhere.frames).toEqual([]);

    expect(await producer.getWorkers()).toEqual([]);
    const job = await producer.add('notify', { userId: 'g1', type: 'not.consumed' });
    expect(await job.getState()).toBe('waiting');
    await client.close();
    await producer.close();
  });

  it('refuses to start without jwt, and says what it needs', async () => {
    await expect(startHost({ worker: false })).rejects.toThrow(/jwt\.secret or jwt\.publicKey/);
  });

  it('refuses to start an HTTP inbox without jwt', async () => {
    await expect(
      startHost({ gateway: false, worker: false, http: { publish: false } }),
    ).rejects.toThrow(/jwt\.secret or jwt\.publicKey/);
  });
});

describe('the HTTP parts under a global prefix, and the token issuer', () => {
  let host: Host;

  beforeAll(async () => {
    host = await startHost(
      {
        jwt: { secret: TEST_JWT_SECRET },
        apiKeys: [API_KEY],
        http: { inbox: true, publish: true },
      },
      { prefix: 'api', metadata: { controllers: [CommentsController] } },
    );
  });

  it('serves inbox and publish under the prefix, for a token the host issued', async () => {
    const { token } = await host.app.get(NotificationTokenIssuer).issueToken('issued-user');
    const client = await TestClient.ready(`${host.wsBase}/ws`, { token });

    const published = await http('POST', `${host.httpUrl}/api/v1/notifications`, {
      token: API_KEY,
      body: { userId: 'issued-user', type: 'http.published' },
    });
    expect(published).toMatchObject({ status: 202, body: { jobId: expect.any(String) } });
    const { notification } = await client.next('notification');

    const page = await http('GET', `${host.httpUrl}/api/v1/me/notifications`, { token });
    expect(page).toMatchObject({ status: 200, body: { unread: 1, nextCursor: null } });
    expect(page.body.items).toEqual([notification]);
    const read = await http('POST', `${host.httpUrl}/api/v1/me/notifications/read`, {
      token,
      body: { all: true },
    });
    expect(read).toMatchObject({ status: 200, body: { unread: 0 } });
    expect((await http('GET', `${host.httpUrl}/v1/me/notifications`, { token })).status).toBe(404);
    await client.close();
  });

  it('guards and validates its routes whatever the host does', async () => {
    const inbox = `${host.httpUrl}/api/v1/me/notifications`;
    expect((await http('GET', inbox)).status).toBe(401);
    expect((await http('GET', inbox, { token: 'not-a-jwt' })).status).toBe(401);
    const token = await signToken('v1');
    expect(await http('GET', `${inbox}?limit=0`, { token })).toMatchObject({
      status: 400,
      body: { message: ['limit must not be less than 1'] },
    });
    expect(await http('GET', `${inbox}?constructor=1`, { token })).toMatchObject({
      status: 400,
      body: { message: ['property constructor should not exist'] },
    });
    expect(
      (await http('POST', `${host.httpUrl}/api/v1/notifications`, { body: { userId: 'x' } }))
        .status,
    ).toBe(401);
  });

  it("maps the library's errors on the host's own routes to 400, not 500", async () => {
    const answer = await http('POST', `${host.httpUrl}/api/comments`, {
      body: { to: 'someone', type: 'NOT A TYPE' },
    });

    expect(answer).toMatchObject({
      status: 400,
      body: { statusCode: 400, error: 'Bad Request', fields: ['type'] },
    });
  });
});

describe('the injected producer API in a host module', () => {
  @Injectable()
  class Announcer {
    constructor(readonly notifications: NotificationService) {}
  }

  @Module({ providers: [Announcer], exports: [Announcer] })
  class AnnouncerModule {}

  it('is the same service as the module exports, with no HTTP parts unless asked', async () => {
    const host = await startHost(
      { jwt: { secret: TEST_JWT_SECRET }, isGlobal: true, worker: false },
      { metadata: { imports: [AnnouncerModule] } },
    );

    expect(host.app.get(Announcer).notifications).toBe(host.app.get(NotificationService));
    const token = await signToken('nobody');
    expect((await http('GET', `${host.httpUrl}/v1/me/notifications`, { token })).status).toBe(404);
    expect((await http('POST', `${host.httpUrl}/v1/notifications`, { body: {} })).status).toBe(404);
  });
});
