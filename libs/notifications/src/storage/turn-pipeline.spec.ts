import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { TurnPipeline } from './turn-pipeline.js';

describe(TurnPipeline.name, () => {
  let redis: Redis;
  let prefix: string;
  let pipelines: number;
  let sut: TurnPipeline;

  beforeAll(() => {
    redis = new Redis(inject('redisUrl'));
  });
  beforeEach(() => {
    prefix = `spec:turn:${randomUUID()}`;
    pipelines = 0;
    sut = new TurnPipeline(() => {
      pipelines += 1;
      return redis.pipeline();
    });
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('sends the commands of one turn of the event loop as one pipeline, each caller its own reply', async () => {
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => sut.send<number>((p) => p.incrby(`${prefix}:n`, i))),
    );

    expect(pipelines).toBe(1);
    // In call order: each reply is the running sum up to that command.
    expect(replies).toEqual(Array.from({ length: 20 }, (_, i) => (i * (i + 1)) / 2));
  });

  it('gives a failed command its error and the others their replies', async () => {
    await redis.set(`${prefix}:text`, 'not a number');

    const [before, failed, after] = await Promise.allSettled([
      sut.send((p) => p.incr(`${prefix}:n`)),
      sut.send((p) => p.incr(`${prefix}:text`)),
      sut.send((p) => p.get(`${prefix}:text`)),
    ]);

    expect(before).toEqual({ status: 'fulfilled', value: 1 });
    expect(failed).toMatchObject({
      status: 'rejected',
      reason: { message: expect.stringMatching(/not an integer/) },
    });
    expect(after).toEqual({ status: 'fulfilled', value: 'not a number' });
  });

  it('puts what is sent once a turn has ended into the next pipeline', async () => {
    const first = sut.send((p) => p.incr(`${prefix}:n`));
    await new Promise((resolve) => setImmediate(resolve));
    const second = sut.send((p) => p.incr(`${prefix}:n`));

    await expect(Promise.all([first, second])).resolves.toEqual([1, 2]);
    expect(pipelines).toBe(2);
  });

  it('rejects every caller of a pipeline that could not be sent', async () => {
    const closed = new Redis(inject('redisUrl'), { lazyConnect: true, maxRetriesPerRequest: 0 });
    closed.disconnect();
    const failing = new TurnPipeline(() => closed.pipeline());

    const results = await Promise.allSettled([
      failing.send((p) => p.incr(`${prefix}:n`)),
      failing.send((p) => p.incr(`${prefix}:m`)),
    ]);

    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(await redis.exists(`${prefix}:n`, `${prefix}:m`)).toBe(0);
  });
});
