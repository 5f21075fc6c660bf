import { Redis, type Result } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { storePipeline } from './cluster-pipeline.js';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    specIncrOrFail(key: string, by: number): Result<number, Context>;
  }
}

const NO_ACK = { replicas: 0, timeoutMs: 0 };

describe(`${storePipeline.name} on one Redis`, () => {
  let redis: Redis;
  let prefix: string;
  let pipelines: ReturnType<typeof vi.spyOn>;

  beforeAll(() => {
    redis = new Redis(inject('redisUrl'));
    redis.defineCommand('specIncrOrFail', {
      numberOfKeys: 1,
      lua: `if tonumber(ARGV[1]) < 0 then return redis.error_reply('ERR negative') end
            return redis.call('INCRBY', KEYS[1], ARGV[1])`,
    });
  });
  beforeEach(() => {
    prefix = `spec:batch:${randomUUID()}`;
    pipelines = vi.spyOn(redis, 'pipeline');
  });
  afterEach(() => {
    pipelines.mockRestore();
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('sends one command by itself, without building a pipeline, and answers like a pipeline', async () => {
    const batch = storePipeline(redis, NO_ACK);
    batch.specIncrOrFail(`${prefix}:n`, 5);

    await expect(batch.exec()).resolves.toEqual([[null, 5]]);
    expect(pipelines).not.toHaveBeenCalled();
    await expect(redis.get(`${prefix}:n`)).resolves.toBe('5');
  });

  it('answers one failed command with its error in the reply, as a pipeline does, not by rejecting', async () => {
    const alone = storePipeline(redis, NO_ACK);
    alone.specIncrOrFail(`${prefix}:n`, -1);
    const inPipeline = redis.pipeline().specIncrOrFail(`${prefix}:n`, -1);

    const [[aloneError, aloneResult]] = (await alone.exec()) ?? [];
    const [[pipelineError]] = (await inPipeline.exec()) ?? [];

    expect(aloneError).toBeInstanceOf(Error);
    expect(aloneError?.message).toBe(pipelineError?.message);
    expect(aloneError?.message).toMatch(/negative/);
    expect(aloneResult).toBeUndefined();
  });

  it('sends two commands or more as one pipeline, replies in call order, a failure in its place', async () => {
    const batch = storePipeline(redis, NO_ACK);
    batch.specIncrOrFail(`${prefix}:n`, 2);
    batch.specIncrOrFail(`${prefix}:n`, -1);
    batch.incrby(`${prefix}:n`, 3);
    expect(batch.length).toBe(3);

    const replies = (await batch.exec()) ?? [];

    expect(pipelines).toHaveBeenCalledTimes(1);
    expect(replies.map(([error, result]) => error?.message ?? result)).toEqual([
      2,
      expect.stringMatching(/negative/),
      5,
    ]);
  });

  it('answers an empty batch with no replies and sends nothing', async () => {
    await expect(storePipeline(redis, NO_ACK).exec()).resolves.toEqual([]);
    expect(pipelines).not.toHaveBeenCalled();
  });

  it('is not taken for a promise (awaiting it gives the batch back)', async () => {
    const batch = storePipeline(redis, NO_ACK);

    await expect(Promise.resolve(batch)).resolves.toBe(batch);
  });
});

describe(`${storePipeline.name} on a cluster`, () => {
  /**
   * A cluster connection as storePipeline sees it, at unit level: every key's slot is served by one
   * node, and that node's pipeline answers with `replies`.
   */
  function fakeCluster(replies: [Error | null, unknown][]) {
    const pipeline = { call: vi.fn(), set: vi.fn(), exec: vi.fn(async () => replies) };
    const cluster = {
      isCluster: true,
      slots: Array.from({ length: 16384 }, () => ['127.0.0.1:7000']),
      pipeline: () => pipeline,
      refreshSlotsCache: vi.fn(),
    };
    return cluster;
  }

  it('refreshes the slot map when a pipeline that also wrote elsewhere gets MOVED, and hands the MOVED back', async () => {
    const moved = new Error('MOVED 3 127.0.0.1:7001');
    const cluster = fakeCluster([
      [null, 'OK'],
      [moved, undefined],
    ]);
    const batch = storePipeline(cluster as never, NO_ACK);
    batch.set('{a}:k', '1');
    batch.set('{b}:k', '2');

    await expect(batch.exec()).resolves.toEqual([
      [null, 'OK'],
      [moved, undefined],
    ]);
    expect(cluster.refreshSlotsCache).toHaveBeenCalledTimes(1);
  });

  it('leaves the slot map alone for other errors', async () => {
    const cluster = fakeCluster([
      [null, 'OK'],
      [new Error('ERR negative'), undefined],
    ]);
    const batch = storePipeline(cluster as never, NO_ACK);
    batch.set('{a}:k', '1');
    batch.set('{b}:k', '2');

    await batch.exec();
    expect(cluster.refreshSlotsCache).not.toHaveBeenCalled();
  });
});
