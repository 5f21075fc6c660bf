import { Queue } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { redisOptionsFromUrl } from '../src/redis/redis-url.js';
import { startService, runToExit, type ServiceProcess } from './kit/service.mjs';
import { TEST_JWT_SECRET, signToken } from './kit/tokens.mjs';
import { TestClient } from './kit/ws-client.js';

describe('the built service as a process (e2e)', () => {
  it('exits with 78 and names the variable for a bad value', async () => {
    const { code, output } = await runToExit({ PORT: 'abc' });
    expect(code).toBe(78);
    expect(output).toMatch(/PORT must be/);
  });

  it('refuses to start in production without a JWT key', async () => {
    const { code, output } = await runToExit({
      NODE_ENV: 'production',
      REDIS_URL: inject('redisUrl'),
    });
    expect(code).toBe(78);
    expect(output).toMatch(/JWT_SECRET or JWT_PUBLIC_KEY is required in production/);
  });

  describe('start:prod', () => {
    let service: ServiceProcess;
    let producer: Queue;
    const queueName = `prod-${randomBytes(4).toString('hex')}`;

    beforeAll(async () => {
      service = await startService({
        NODE_ENV: 'production',
        JWT_SECRET: TEST_JWT_SECRET,
        REDIS_URL: inject('redisUrl'),
        ALLOWED_ORIGINS: 'https://app.example',
        NOTIFY_QUEUE: queueName,
        KEY_PREFIX: queueName,
      });
      producer = new Queue(queueName, { connection: redisOptionsFromUrl(inject('redisUrl')) });
    });
    afterAll(async () => {
      await producer.close();
      await service.stop('SIGKILL');
    });

    it('delivers, never logs the token, and closes sockets with 1001 on SIGTERM', async () => {
      const token = await signToken('prod-user');
      const client = await TestClient.ready(service.wsUrl, {
        token,
        origin: 'https://app.example',
      });
      await producer.add('notify', {
        userId: 'prod-user',
        type: 'prod.check',
        payload: { secret: 'payload-secret' },
      });
      expect((await client.next('notification')).notification.type).toBe('prod.check');

      const foreign = TestClient.connect(service.wsUrl, { token, origin: 'https://evil.example' });
      expect((await foreign.waitClosed()).status).toBe(403);

      const exitCode = service.stop('SIGTERM');
      expect((await client.waitClosed()).code).toBe(1001);
      expect(await exitCode).toBe(0);
      expect(service.output()).not.toContain(token);
      expect(service.output()).not.toContain('payload-secret');
      expect(service.output()).not.toContain(TEST_JWT_SECRET);
    });
  });
});
