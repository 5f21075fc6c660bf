import fc from 'fast-check';
import { http, metricValue, postRaw, scrapeMetrics } from '../kit/http.mjs';
import { rawExchange } from '../kit/raw-http.mjs';
import type { ServiceProcess } from '../kit/service.mjs';
import { failedReasonOf } from '../kit/jobs.js';
import { eventually } from '../kit/timing.mjs';
import { signToken } from '../kit/tokens.mjs';
import { STACK_LINE } from '../kit/watched-service.js';
import { bulkIds, jobTextArb } from './hostile/arbitraries.js';
import { exchange } from './hostile/frames.js';
import {
  API_KEY,
  expectNamesViolations,
  jobViolations,
  PAYLOAD_MAX_BYTES,
} from './hostile/oracles.js';
import { useHostileService } from './hostile/targets.js';

/**
 * Hostile HTTP bodies against the built service (its own process): publishes judged against the
 * README's job contract, bodies that are not job data at all, and reads of other users'
 * notifications. Each answered with a clear 4xx and nothing else harmed (see hostile-frames for the
 * checks); a rejected job cannot forge the log.
 */

describe('hostile HTTP bodies against the built service (e2e)', { timeout: 60_000 }, () => {
  const watched = useHostileService('hostile-http');
  let s: ServiceProcess;
  beforeAll(() => {
    s = watched.service;
  });
  const ready = (sub: string) => watched.ready(sub);

  describe('HTTP bodies', () => {
    const publish = (text: string | Buffer, contentType?: string) =>
      postRaw(`${s.httpUrl}/v1/notifications`, text, API_KEY, contentType);

    it('POST /v1/notifications answers 202 exactly for data valid by the job contract, else 400 naming the fields', async () => {
      const failedBefore = metricValue(
        await scrapeMetrics(s.httpUrl),
        'notifications_failed_jobs_total{reason="invalid"}',
        0,
      );
      let accepted = 0;
      await fc.assert(
        fc.asyncProperty(jobTextArb, async (text) => {
          const data = JSON.parse(text) as Record<string, unknown>;
          const violations = jobViolations(data);
          const answer = await publish(text);
          expect(JSON.stringify(answer.body)).not.toMatch(STACK_LINE);
          if (violations.length === 0) {
            expect(answer.status, text.slice(0, 300)).toBe(202);
            expect(answer.body.jobId).toEqual(expect.any(String));
            accepted++;
            return;
          }
          expect(answer.status, text.slice(0, 300)).toBe(400);
          expect(Array.isArray(answer.body.fields)).toBe(true);
          const fields = answer.body.fields as string[];
          expectNamesViolations((name) => fields.includes(name), fields, violations, data);
        }),
        { numRuns: 250 },
      );
      expect(accepted).toBeGreaterThan(10);
      // Every job the HTTP layer accepted is valid to the worker too: none fails as invalid.
      await eventually(
        async () => {
          const text = await scrapeMetrics(s.httpUrl);
          return (
            metricValue(text, 'notifications_queue_jobs{state="waiting"}', 0) === 0 &&
            metricValue(text, 'notifications_queue_jobs{state="active"}', 0) === 0
          );
        },
        30_000,
        'queue drained',
      );
      expect(
        metricValue(
          await scrapeMetrics(s.httpUrl),
          'notifications_failed_jobs_total{reason="invalid"}',
          0,
        ),
      ).toBe(failedBefore);
    });

    it('the contract edges over HTTP: 16 KiB payloads, 1,000 recipients', async () => {
      const payloadOf = (bytes: number) => ({ d: 'x'.repeat(bytes - 8) });
      expect(Buffer.byteLength(JSON.stringify(payloadOf(PAYLOAD_MAX_BYTES)))).toBe(
        PAYLOAD_MAX_BYTES,
      );
      const body = (extra: object) => JSON.stringify({ type: 'edge.case', ...extra });
      expect(
        (await publish(body({ userId: 'edge', payload: payloadOf(PAYLOAD_MAX_BYTES) }))).status,
      ).toBe(202);
      expect(
        await publish(body({ userId: 'edge', payload: payloadOf(PAYLOAD_MAX_BYTES + 1) })),
      ).toMatchObject({ status: 400, body: { fields: ['payload'] } });
      // 2-byte chars: bytes count, not characters.
      expect(
        await publish(body({ userId: 'edge', payload: { d: 'é'.repeat(8189) } })),
      ).toMatchObject({ status: 400, body: { fields: ['payload'] } });
      expect((await publish(body({ userIds: bulkIds(1000, 0) }))).status).toBe(202);
      expect(await publish(body({ userIds: bulkIds(1001, 0) }))).toMatchObject({
        status: 400,
        body: { fields: ['userIds'] },
      });
    });

    it('bodies that are not job data at all: a 4xx with a plain message, never a 5xx', async () => {
      const clientError = [400, 413, 415];
      const bodies: [string | Buffer, string | undefined, number[]][] = [
        ['', undefined, [400]],
        ['{', undefined, [400]],
        ['{"userId":', undefined, [400]],
        ['null', undefined, [400]],
        ['42', undefined, [400]],
        ['"x"', undefined, [400]],
        ['[]', undefined, [400]],
        ['[{"userId":"a","type":"t"}]', undefined, [400]],
        [Buffer.from([0xff, 0xfe, 0xfd, 0x00]), undefined, [400]],
        ['{"userId":"a","type":"t"}', 'application/json; charset=utf-16', clientError],
        ['{"userId":"a","type":"t"}', 'application/x-www-form-urlencoded', clientError],
        ['userId[]=a&type[__proto__]=t', 'application/x-www-form-urlencoded', clientError],
        [`{"userId":"a","type":"t","payload":${'['.repeat(50_000)}}`, undefined, [400]],
        [
          `{"userId":"a","type":"t","payload":{"a":${'['.repeat(30_000)}${']'.repeat(30_000)}}}`,
          undefined,
          [400],
        ],
        [
          JSON.stringify({ userId: 'a', type: 't', payload: { d: 'x'.repeat(2 << 20) } }),
          undefined,
          [413],
        ],
        // Numbers beyond a double become null when parsed: accepted as such, or refused.
        ['{"userId":"a","type":"t","payload":{"n":1e999}}', undefined, [202, 400]],
        [`{"userId":"a","type":"t","payload":{"n":${'9'.repeat(50_000)}}}`, undefined, [202, 400]],
      ];
      for (const [raw, contentType, statuses] of bodies) {
        const answer = await publish(raw, contentType);
        const label = `${String(raw).slice(0, 60)} (${contentType ?? 'json'})`;
        expect(statuses, `${label}: ${answer.status}`).toContain(answer.status);
        expect(JSON.stringify(answer.body), label).not.toMatch(STACK_LINE);
        expect(JSON.stringify(answer.body), label).not.toMatch(/node_modules|\.[jt]s:\d+/);
      }
      // Unauthenticated hostile bodies never reach validation.
      const noKey = await postRaw(`${s.httpUrl}/v1/notifications`, '{"__proto__":1}', 'eyJ.eyJ.x');
      expect(noKey.status).toBe(401);
    });

    it('a body over the limit gets its 413 while its sender is still sending it; one that never ends is cut soon after', async () => {
      // Refused from Content-Length before it is read: a connection closed at once often reached
      // the sender as a reset (EPIPE) in place of the answer, about one POST in twenty here.
      const tooLarge = JSON.stringify({
        userId: 'a',
        type: 't',
        payload: { d: 'x'.repeat(2 << 20) },
      });
      const statuses = new Map<number | string, number>();
      for (let i = 0; i < 100; i++) {
        const status = await publish(tooLarge).then(
          (answer) => answer.status,
          (error: Error & { cause?: { code?: string } }) => error.cause?.code ?? error.message,
        );
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
      expect(Object.fromEntries(statuses)).toEqual({ 413: 100 });
      // A sender that declares 100 MB and trickles it: answered, then cut (2 s after the answer).
      const head = [
        'POST /v1/notifications HTTP/1.1',
        'Host: 127.0.0.1',
        `Authorization: Bearer ${API_KEY}`,
        'Content-Type: application/json',
        'Content-Length: 100000000',
        '',
        '{"userId":',
      ].join('\r\n');
      const trickle = await rawExchange(s.port, head, {
        timeoutMs: 15_000,
        drip: () => 'x'.repeat(1000),
        dripMs: 100,
      });
      expect(trickle.status).toBe(413);
      console.log(
        `[hostile-http] trickled 100 MB body: 413, cut after ${trickle.closedAfterMs} ms`,
      );
      expect(trickle.closedAfterMs).toBeGreaterThanOrEqual(1900);
      expect(trickle.closedAfterMs).toBeLessThan(15_000);
      // And the service goes on answering.
      const after = await postRaw(
        `${s.httpUrl}/v1/notifications`,
        '{"userId":"a","type":"t"}',
        API_KEY,
      );
      expect(after.status).toBe(202);
    });

    it('answers 400, not 500, to a publish without a JSON object body', async () => {
      for (const [body, type] of [
        ['', 'application/json'],
        ['hello', 'text/plain'],
        ['<a/>', 'application/xml'],
        [Buffer.from([1, 2, 3]), 'application/octet-stream'],
        ['[1,2]', 'application/json'],
        ['null', 'application/json'],
      ] as const) {
        const answer = await postRaw(`${s.httpUrl}/v1/notifications`, body, API_KEY, type);
        expect(answer.status, `${type} ${String(body)}`).toBe(400);
        expect(JSON.stringify(answer.body)).not.toMatch(STACK_LINE);
      }
    });

    it('accepts the largest valid job (1,000 × 128-char userIds and a 16 KiB payload)', async () => {
      const userIds = Array.from({ length: 1000 }, (_, i) => `${i}`.padStart(128, 'u'));
      const payload = { blob: 'x'.repeat(16 * 1024 - 20) };
      const answer = await publish(JSON.stringify({ userIds, type: 'big.job', payload }));
      expect(answer.status).toBe(202);
    });

    it('refuses a deeply nested payload with a true reason, and takes one within the depth limit', async () => {
      const nest = (depth: number) => '{"a":'.repeat(depth - 1) + '1' + '}'.repeat(depth - 1);
      const deep = await publish(`{"userId":"u","type":"t","payload":${nest(40)}}`);
      expect(deep.status).toBe(400);
      expect(deep.body.message.join(' ')).toMatch(/payload must nest at most 32 levels deep/);
      expect(deep.body.fields).toEqual(['payload']);
      // Deeper than any valid job: refused before it is parsed.
      const deeper = await publish(`{"userId":"u","type":"t","payload":${nest(4100)}}`);
      expect(deeper).toMatchObject({ status: 400, body: { message: /nests deeper than 64/ } });
      const fine = await publish(`{"userId":"u","type":"t","payload":${nest(32)}}`);
      expect(fine.status).toBe(202);
    });

    it('names every offending field, also next to a prototype-named key', async () => {
      const answer = await publish('{"constructor":1,"userId":5}');
      expect(answer.status).toBe(400);
      expect(answer.body.fields).toEqual(expect.arrayContaining(['constructor', 'userId', 'type']));
    });

    it('counts userId length as a token sub is counted (UTF-16 units)', async () => {
      expect((await publish(JSON.stringify({ userId: '😀'.repeat(65), type: 't' }))).status).toBe(
        400,
      );
      expect(
        (await publish(JSON.stringify({ userId: 'a\uFE0F'.repeat(100), type: 't' }))).status,
      ).toBe(400);
      expect((await publish(JSON.stringify({ userId: '😀'.repeat(64), type: 't' }))).status).toBe(
        202,
      );
    });

    it('the inbox refuses prototype-named unknown fields in bodies and queries with 400', async () => {
      const token = await signToken('inbox-strict');
      for (const raw of [
        '{"ids":["x"],"toString":1}',
        '{"all":true,"constructor":1}',
        '{"all":true,"hasOwnProperty":1}',
      ]) {
        const answer = await postRaw(`${s.httpUrl}/v1/me/notifications/read`, raw, token);
        expect(answer.status, raw).toBe(400);
        expect(JSON.stringify(answer.body.message)).toMatch(/should not exist/);
      }
      for (const query of ['?toString=1', '?constructor=1']) {
        const answer = await http('GET', `${s.httpUrl}/v1/me/notifications${query}`, { token });
        expect(answer.status, query).toBe(400);
      }
    });
  });

  describe('reading other users’ notifications', () => {
    it('read frames and HTTP read bodies with other users’ ids change no one’s count', async () => {
      const ownerToken = await signToken('owner');
      const snoopToken = await signToken('snoop');
      const owner = await ready('owner');
      const snoop = await ready('snoop');
      for (const [userId, n] of [
        ['owner', 0],
        ['owner', 1],
        ['owner', 2],
        ['snoop', 0],
      ] as const) {
        const answer = await http('POST', `${s.httpUrl}/v1/notifications`, {
          token: API_KEY,
          body: { userId, type: 'owned.item', payload: { n } },
        });
        expect(answer.status).toBe(202);
      }
      await eventually(() => owner.all('notification').length === 3, 10_000, 'owner has 3');
      await eventually(() => snoop.all('notification').length === 1, 10_000, 'snoop has 1');
      const ownerIds = owner.notificationIds();
      const unreadOf = async (token: string) =>
        (await http('GET', `${s.httpUrl}/v1/me/notifications`, { token })).body.unread as number;

      snoop.send('read', { ids: ownerIds });
      expect(await snoop.next('unread')).toEqual({ unread: 1 });
      for (const ids of [
        ownerIds,
        ['all'],
        ['*'],
        [`${ownerIds[0]} `],
        ownerIds.map((id) => id.toUpperCase()),
      ]) {
        const answer = await http('POST', `${s.httpUrl}/v1/me/notifications/read`, {
          token: snoopToken,
          body: { ids },
        });
        expect(answer).toMatchObject({ status: 200, body: { unread: 1 } });
      }
      for (const raw of [
        '{"ids":"x"}',
        '{"ids":[1]}',
        '{}',
        '[]',
        '{"ids":[],"all":true}',
        '{"all":"true"}',
        '{"all":1}',
        '{"__proto__":{"all":true}}',
        '{"constructor":{"prototype":{"all":true}}}',
        `{"ids":${JSON.stringify(Array(1001).fill('x'))}}`,
        `{"ids":["${'x'.repeat(100)}"]}`,
        '{"ids":',
      ]) {
        const answer = await postRaw(`${s.httpUrl}/v1/me/notifications/read`, raw, ownerToken);
        expect(answer.status, raw).toBe(400);
        expect(JSON.stringify(answer.body)).not.toMatch(STACK_LINE);
      }
      // Prototype-named extras are refused; either way nobody else changes.
      await postRaw(
        `${s.httpUrl}/v1/me/notifications/read`,
        JSON.stringify({ ids: ownerIds, toString: 1 }),
        snoopToken,
      );
      expect(await unreadOf(ownerToken)).toBe(3);
      expect(await unreadOf(snoopToken)).toBe(1);
      // The owner's socket was told nothing: its count never changed.
      expect(await exchange(owner, '{"event":"ping"}')).toEqual([{ event: 'pong', data: {} }]);
      expect(owner.all('unread')).toEqual([]);
      // The snoop reading all of its own does not touch the owner's.
      snoop.send('read', { all: true });
      expect(await snoop.next('unread')).toEqual({ unread: 0 });
      expect(await unreadOf(ownerToken)).toBe(3);
    });
  });

  describe('afterwards', () => {
    it('a rejected job cannot forge log lines or put token-shaped text in the log', async () => {
      const job = await watched.queue.add('notify', {
        userId: 'a',
        type: 't',
        'x\n    at forged (/evil.js:1:1)': 1,
        'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig': 2,
      });
      expect(await failedReasonOf(watched.queue, job, 10_000)).toMatch(/should not exist/);
      expect(s.output()).not.toContain('forged');
    });

    it('the process is up, its memory bounded, the bystander got every notification in order, and its log holds no token, secret or stack trace', async () => {
      await watched.expectUnharmed('hostile-http-bodies');
    });
  });
});
