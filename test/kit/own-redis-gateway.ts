import { startRedis, type RedisServer } from './redis.mjs';
import { startService, type ServiceProcess } from './service.mjs';
import { TEST_JWT_SECRET } from './tokens.mjs';

/**
 * A gateway of the built service (production mode) on a Redis of its own, for specs that stop that
 * Redis and start it again on the same port. Registers the hooks; call it at the top of a `describe`.
 */
export function useGatewayOnOwnRedis(env: Record<string, string> = {}) {
  let redis: RedisServer | undefined;
  let gateway: ServiceProcess | undefined;

  beforeAll(async () => {
    redis = await startRedis();
    gateway = await startService({
      NODE_ENV: 'production',
      JWT_SECRET: TEST_JWT_SECRET,
      REDIS_URL: redis.url,
      ROLE: 'gateway',
      ...env,
    });
  });

  afterAll(async () => {
    await gateway?.stop('SIGKILL');
    await redis?.stop();
  });

  return {
    get gateway(): ServiceProcess {
      if (!gateway) throw new Error('the gateway is not started (beforeAll)');
      return gateway;
    },
    /** Stops the gateway's Redis. */
    async stopRedis(): Promise<void> {
      await redis?.stop();
    },
    /** Starts a Redis again on the port of the first. */
    async restartRedis(): Promise<void> {
      if (!redis) throw new Error('Redis was never started (beforeAll)');
      redis = await startRedis({ port: redis.port });
    },
  };
}
