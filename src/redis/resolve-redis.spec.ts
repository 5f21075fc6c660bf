import { freePort, REDIS_HELP, redisAnswers } from './local-redis.js';
import { resolveRedis } from './resolve-redis.js';

describe('resolveRedis', () => {
  const logger = { warn: vi.fn() };

  beforeEach(() => logger.warn.mockReset());

  it('uses REDIS_URL when it is set', async () => {
    const sut = await resolveRedis({ redisUrl: 'redis://example:1', production: false }, logger);
    expect(sut).toEqual({ url: 'redis://example:1' });
  });

  it('never starts a Redis in production', async () => {
    const port = await freePort();
    const sut = await resolveRedis({ redisUrl: undefined, production: true }, logger, {
      host: '127.0.0.1',
      port,
    });
    expect(sut).toEqual({ url: `redis://127.0.0.1:${port}` });
    expect(sut.local).toBeUndefined();
  });

  it('starts a throwaway redis-server when nothing answers, and says so', async () => {
    const port = await freePort();
    const sut = await resolveRedis({ redisUrl: undefined, production: false }, logger, {
      host: '127.0.0.1',
      port,
    });
    try {
      expect(sut.local).toBeDefined();
      expect(sut.url).not.toBe(`redis://127.0.0.1:${port}`);
      expect(await redisAnswers('127.0.0.1', sut.local!.port)).toBe(true);
      expect(logger.warn).toHaveBeenCalledWith(
        expect.stringMatching(/started a throwaway redis-server/),
        'Redis',
      );
    } finally {
      await sut.local?.stop();
    }
  });

  it('names both ways to get Redis when there is no redis-server', async () => {
    const port = await freePort();
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(
        resolveRedis({ redisUrl: undefined, production: false }, logger, {
          host: '127.0.0.1',
          port,
        }),
      ).rejects.toThrow(REDIS_HELP);
    } finally {
      process.env.PATH = path;
    }
    expect(REDIS_HELP).toMatch(/docker compose/);
    expect(REDIS_HELP).toMatch(/apt-get install redis-server/);
  });
});
