import { Logger } from '@nestjs/common';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { JobRecovery } from './job-recovery.js';

/*
 * Against the real Redis of the test run. A job that a worker holds the lock of but never received
 * is made as a lost fetch reply leaves it: fetched under the worker's lock before the recovery
 * started watching the worker's announcements.
 */
describe(JobRecovery.name, () => {
  const connection = () => {
    const url = new URL(inject('redisUrl'));
    return { host: url.hostname, port: Number(url.port) };
  };
  let queue: Queue;
  let worker: Worker;
  let other: Worker;
  let sut: JobRecovery;
  let redis: Redis;
  const logger = new Logger('spec');
  let warn: ReturnType<typeof vi.spyOn>;

  beforeEach(async () => {
    const name = `recovery-${randomUUID()}`;
    queue = new Queue(name, { connection: connection() });
    // No processor and no autorun: jobs are fetched by hand, as the main loop would.
    worker = new Worker(name, undefined, { connection: connection(), autorun: false });
    other = new Worker(name, undefined, { connection: connection(), autorun: false });
    redis = new Redis(connection());
    await Promise.all([queue.waitUntilReady(), worker.waitUntilReady(), other.waitUntilReady()]);
    warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
  });

  afterEach(async () => {
    await sut?.stop();
    await Promise.all([worker.close(true), other.close(true), redis.quit()]);
    await queue.obliterate({ force: true });
    await queue.close();
  });

  it('moves a job under this worker’s lock that it never received back to the wait list', async () => {
    await queue.add('notify', { n: 1 });
    const orphan = await worker.getNextJob(`${worker.id}:lost`);
    sut = new JobRecovery(worker, redis, logger);
    sut.start();

    expect(await sut.check(10)).toBe(1);

    expect(await queue.getJobState(orphan!.id!)).toBe('waiting');
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('1 job(s)'));
    // Whoever takes it next processes it as usual.
    const again = await other.getNextJob(`${other.id}:1`);
    expect(again?.id).toBe(orphan!.id);
  });

  it('leaves alone the jobs this worker received, and those of other workers', async () => {
    sut = new JobRecovery(worker, redis, logger);
    sut.start();
    await queue.add('notify', { n: 1 });
    await queue.add('notify', { n: 2 });
    const received = await worker.getNextJob(`${worker.id}:1`);
    const othersJob = await other.getNextJob(`${other.id}:1`);

    expect(await sut.check(10)).toBe(0);

    expect(await queue.getJobState(received!.id!)).toBe('active');
    expect(await queue.getJobState(othersJob!.id!)).toBe('active');
  });

  it('checks by itself when the connection to Redis is back', async () => {
    sut = new JobRecovery(worker, redis, logger);
    sut.start();
    await queue.add('notify', { n: 1 });
    // As a re-sent fetch leaves it: under this worker's lock, never announced.
    const orphan = await other.getNextJob(`${worker.id}:lost`);

    const ready = new Promise((resolve) => redis.once('ready', resolve));
    redis.disconnect(true);
    await ready;

    // Back in the wait list after the check's second look, a second after the reconnection.
    const deadline = Date.now() + 10_000;
    let state = await queue.getJobState(orphan!.id!);
    while (state !== 'waiting' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      state = await queue.getJobState(orphan!.id!);
    }
    expect(state).toBe('waiting');
  });
});
