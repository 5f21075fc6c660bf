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
import { isolatedEnv } from './kit/test-app.js';

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
