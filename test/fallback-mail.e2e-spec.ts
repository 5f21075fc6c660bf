import { BullModule } from '@nestjs/bullmq';
import { Logger, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Queue, QueueEvents } from 'bullmq';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { FallbackMailModule } from '../src/fallback/fallback-mail.module.js';
import { redisOptionsFromUrl } from '../src/redis/redis-url.js';
import { failedReasonOf } from './kit/jobs.js';
import { startService } from './kit/service.mjs';
import { eventually } from './kit/timing.mjs';
import { isolatedEnv } from './kit/test-app.js';
import { TEST_JWT_SECRET } from './kit/tokens.mjs';

/** The service's fallback worker: a plain BullMQ worker on the host's queue, real Redis. */
describe('the fallback mail worker (e2e)', () => {
  const connection = () => redisOptionsFromUrl(inject('redisUrl'));
  let app: INestApplication;
  let queue: Queue;
  let events: QueueEvents;
  let logged: string[];

  beforeAll(async () => {
    const name = `fallback-${isolatedEnv().KEY_PREFIX}`;
    logged = [];
    vi.spyOn(Logger.prototype, 'log').mockImplementation(function (this: Logger, message) {
      logged.push(String(message));
    });
    const moduleRef = await Test.createTestingModule({
      imports: [BullModule.forRoot({ connection: connection() }), FallbackMailModule.forRoot(name)],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    queue = new Queue(name, { connection: connection() });
    events = new QueueEvents(name, { connection: connection() });
    await events.waitUntilReady();
  });

  afterAll(async () => {
    await app?.close();
    await queue?.close();
    await events?.close();
    vi.restoreAllMocks();
  });

  it('sends one "email" per fallback job, logging the user and the type, not the payload', async () => {
    const job = await queue.add('fallback', {
      userId: 'ada',
      notification: {
        id: 'e1-3',
        type: 'invoice.due',
        category: 'billing',
        payload: { title: 'INV-7 for Ada Lovelace' },
        createdAt: new Date().toISOString(),
        read: false,
        seen: false,
        archived: false,
      },
    });

    expect(await job.waitUntilFinished(events, 10_000)).toEqual({ sent: true });
    expect(logged.filter((line) => line.startsWith('fallback for'))).toEqual([
      'fallback for ada: invoice.due',
    ]);
    expect(logged.join('\n')).not.toMatch(/Lovelace|INV-7/);
  });

  it('fails a job that is not a fallback job at once, without retries', async () => {
    const job = await queue.add('fallback', { userId: 'ada' }, { attempts: 3 });

    expect(await failedReasonOf(queue, job, 10_000)).toMatch(/not a fallback job/);
    expect((await queue.getJob(job.id!))?.attemptsMade).toBe(1);
  });
});

describe('the built service with FALLBACK_QUEUE and FALLBACK_LOG_JOBS=1 (e2e)', () => {
  it('consumes the fallback job of a notification stored while its user was offline', async () => {
    const isolated = isolatedEnv();
    const env = {
      REDIS_URL: inject('redisUrl'),
      NODE_ENV: 'test',
      JWT_SECRET: TEST_JWT_SECRET,
      ...isolated,
      NOTIFY_QUEUE: isolated.NOTIFY_QUEUE,
      FALLBACK_QUEUE: `emails-${isolated.KEY_PREFIX}`,
      FALLBACK_WHEN_OFFLINE: '1',
      FALLBACK_LOG_JOBS: '1',
    };
    const service = await startService(env);
    const connection = redisOptionsFromUrl(inject('redisUrl'));
    const producer = new Queue(env.NOTIFY_QUEUE, { connection });
    const fallbacks = new Queue(env.FALLBACK_QUEUE, { connection });
    const stored = new QueueEvents(env.NOTIFY_QUEUE, { connection });
    try {
      await stored.waitUntilReady();
      const job = await producer.add('notify', {
        userId: 'offline-olga',
        type: 'invoice.due',
        category: 'billing',
        payload: { title: 'INV-9 for Olga Ostrova' },
      });
      const [id] = ((await job.waitUntilFinished(stored, 10_000)) as { ids: string[] }).ids;

      await service.waitFor('fallback for offline-olga: invoice.due', 15_000);
      const done = await eventually(
        async () => {
          const jobs = await fallbacks.getJobs(['completed']);
          return jobs.length > 0 && jobs;
        },
        10_000,
        'the fallback job completed',
      );
      expect(
        done.map((j) => [j.name, j.data.userId, j.data.notification.id, j.returnvalue]),
      ).toEqual([['fallback', 'offline-olga', id, { sent: true }]]);
      expect(service.output()).not.toMatch(/Olga Ostrova|INV-9/);
    } finally {
      await producer.close();
      await fallbacks.close();
      await stored.close();
      await service.stop('SIGKILL');
    }
  }, 60_000);
});

describe("the README's fallback worker", () => {
  it('type-checks against the built packages, and a wrong option fails', () => {
    // Under the repository, so that @rtnotify/nestjs, @nestjs/* and bullmq resolve as installed.
    mkdirSync('test-results', { recursive: true });
    const dir = mkdtempSync(join(process.cwd(), 'test-results', 'fallback-example-'));
    try {
      const readme = readFileSync('libs/notifications/README.md', 'utf8');
      const example =
        [...readme.matchAll(/```ts\n([\s\S]*?)```/g)]
          .map(([, code]) => code)
          .find((code) => code.includes('extends WorkerHost')) ?? '';
      expect(example).toContain("@Processor('emails')");
      expect(example).toContain("fallback: { queue: 'emails'");
      const wrong = example.replace("queue: 'emails'", 'queue: 42');
      const tsconfig = (file: string) => ({
        compilerOptions: {
          strict: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2023',
          experimentalDecorators: true,
          emitDecoratorMetadata: true,
          skipLibCheck: true,
          types: ['node'],
          noEmit: true,
        },
        files: [file],
      });
      writeFileSync(join(dir, 'package.json'), '{"type": "module"}');
      writeFileSync(join(dir, 'example.ts'), example);
      writeFileSync(join(dir, 'wrong.ts'), wrong);
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig('example.ts')));
      writeFileSync(join(dir, 'tsconfig.wrong.json'), JSON.stringify(tsconfig('wrong.ts')));
      const tsc = (project: string) =>
        execFileSync(
          process.execPath,
          ['node_modules/typescript/bin/tsc', '-p', join(dir, project)],
          { encoding: 'utf8' },
        );
      expect(tsc('tsconfig.json')).toBe('');
      let refused = '';
      try {
        tsc('tsconfig.wrong.json');
      } catch (error) {
        refused = String((error as { stdout?: string }).stdout);
      }
      expect(refused).toMatch(/Type 'number' is not assignable to type 'string'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
