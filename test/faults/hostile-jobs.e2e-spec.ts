import fc from 'fast-check';
import type { Job } from 'bullmq';
import type { TestApp } from '../kit/test-app.js';
import { eventually } from '../kit/timing.mjs';
import { STACK_LINE } from '../kit/watched-service.js';
import { bulkIds, jobTextArb } from './hostile/arbitraries.js';
import { useDefaultLimitsApp } from './hostile/targets.js';
import { expectNamesViolations, jobViolations, PAYLOAD_MAX_BYTES } from './hostile/oracles.js';

/**
 * Hostile jobs from a plain BullMQ producer, judged against the README's job contract: valid ones
 * complete, invalid ones fail at once naming the fields. The app runs in this process, so that a
 * polluted Object.prototype would show here.
 */

describe('hostile jobs against an app with the default limits (e2e)', { timeout: 60_000 }, () => {
  const limited = useDefaultLimitsApp();
  let t: TestApp;
  beforeAll(() => {
    t = limited.app;
  });

  describe('jobs from a plain BullMQ producer', () => {
    async function settle(jobs: Job[]): Promise<Job[]> {
      await eventually(
        async () => {
          const states = await Promise.all(jobs.map((job) => job.getState()));
          return states.every((state) => state === 'completed' || state === 'failed');
        },
        30_000,
        'jobs settled',
      );
      return Promise.all(jobs.map(async (job) => (await t.producer.getJob(job.id!))!));
    }
    const retrying = { attempts: 3, backoff: { type: 'fixed', delay: 100 } };

    it('arbitrary job data: valid ones complete, invalid ones fail at once naming the fields', async () => {
      const texts = fc.sample(jobTextArb, 80);
      const jobs = await t.producer.addBulk(
        texts.map((text) => ({ name: 'notify', data: JSON.parse(text) as object, opts: retrying })),
      );
      const settled = await settle(jobs);
      let completed = 0;
      for (const [i, job] of settled.entries()) {
        const data = JSON.parse(texts[i]) as Record<string, unknown>;
        const violations = jobViolations(data);
        const state = await job.getState();
        if (violations.length === 0) {
          expect(state, texts[i].slice(0, 300)).toBe('completed');
          expect(job.returnvalue.ids.length).toBeGreaterThan(0);
          completed++;
          continue;
        }
        expect(state, texts[i].slice(0, 300)).toBe('failed');
        expect(job.attemptsMade).toBe(1);
        expect(job.failedReason).toMatch(/^invalid notification job: /);
        expect(job.failedReason).not.toMatch(STACK_LINE);
        expectNamesViolations(
          (name) => job.failedReason.includes(name),
          undefined,
          violations,
          data,
        );
      }
      expect(completed).toBeGreaterThan(0);
    });

    it('the contract edges as jobs: 16 KiB payloads, 1,000 recipients, a wrong job name', async () => {
      const payloadOf = (bytes: number) => ({ d: 'x'.repeat(bytes - 8) });
      const cases: [string, object, 'completed' | 'failed', RegExp | undefined][] = [
        [
          'notify',
          { userId: 'edge', type: 'e', payload: payloadOf(PAYLOAD_MAX_BYTES) },
          'completed',
          undefined,
        ],
        [
          'notify',
          { userId: 'edge', type: 'e', payload: payloadOf(PAYLOAD_MAX_BYTES + 1) },
          'failed',
          /payload/,
        ],
        ['notify', { userIds: bulkIds(1000, 7), type: 'e' }, 'completed', undefined],
        ['notify', { userIds: bulkIds(1001, 7), type: 'e' }, 'failed', /userIds/],
        [
          'notify',
          JSON.parse('{"userId":"edge","type":"e","__proto__":{"userIds":["x"]}}') as object,
          'failed',
          /__proto__/,
        ],
        [
          'notify',
          {
            userId: 'edge',
            type: 'e',
            payload: JSON.parse('{"__proto__":{"polluted":1}}') as object,
          },
          'completed',
          undefined,
        ],
        ['notify-typo', { userId: 'edge', type: 'e' }, 'failed', /job name/],
      ];
      const jobs = await t.producer.addBulk(
        cases.map(([name, data]) => ({ name, data, opts: retrying })),
      );
      const settled = await settle(jobs);
      for (const [i, job] of settled.entries()) {
        const [, , state, reason] = cases[i];
        expect(await job.getState(), `case ${i}`).toBe(state);
        if (state === 'failed') {
          expect(job.attemptsMade, `case ${i}`).toBe(1);
          expect(job.failedReason, `case ${i}`).toMatch(reason!);
        }
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      const [, , bulk] = settled;
      expect(bulk.returnvalue).toMatchObject({ stored: 400 });
    });
  });
});
