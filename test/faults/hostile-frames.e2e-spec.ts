import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { hostileChar, structuredFrameArb } from './hostile/arbitraries.js';
import { exchange, expectAnswered } from './hostile/frames.js';
import { useHostileService } from './hostile/targets.js';
import { expectCleanError, frameVerdict, fuzzable } from './hostile/oracles.js';

/**
 * Hostile frames on an authenticated socket of the built service (its own process), each answered
 * with one clear error and nothing else harmed: the canary user still gets its notifications after
 * every test, and at the end the process is up, its memory bounded, a bystander got every
 * notification streamed meanwhile, and its log holds no token, secret or stack trace.
 */

describe('hostile frames against the built service (e2e)', { timeout: 60_000 }, () => {
  const watched = useHostileService('hostile-frames');
  const ready = (sub: string) => watched.ready(sub);

  describe('frames on an authenticated socket', () => {
    it('fuzzed JSON (fc.json): exactly one answer each, an error with a known code', async () => {
      const client = await ready('fuzz-json');
      await fc.assert(
        fc.asyncProperty(fc.json({ maxDepth: 4, stringUnit: hostileChar }), async (text) => {
          fc.pre(fuzzable(frameVerdict(text)));
          await expectAnswered(client, text);
        }),
        { numRuns: 400 },
      );
      expect(client.socket.readyState).toBe(1);
    });

    it('fc.anything() stringified: exactly one answer each', async () => {
      const client = await ready('fuzz-anything');
      await fc.assert(
        fc.asyncProperty(
          fc.anything({ maxDepth: 3, withObjectString: true, withNullPrototype: true }),
          async (value) => {
            const text = JSON.stringify(value) ?? String(value);
            fc.pre(fuzzable(frameVerdict(text)));
            await expectAnswered(client, text);
          },
        ),
        { numRuns: 300 },
      );
      expect(client.socket.readyState).toBe(1);
    });

    it('random bytes: valid UTF-8 as text, the rest as binary (bad_frame)', async () => {
      const client = await ready('fuzz-bytes');
      const utf8 = new TextDecoder('utf-8', { fatal: true });
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
          const buffer = Buffer.from(bytes);
          let text: string | undefined;
          try {
            utf8.decode(buffer);
            text = buffer.toString('utf8');
          } catch {
            text = undefined;
          }
          if (text === undefined) {
            const answers = await exchange(client, buffer, true);
            expect(answers).toHaveLength(1);
            expectCleanError(answers[0], 'bad_frame');
            return;
          }
          const verdict = frameVerdict(text);
          fc.pre(fuzzable(verdict));
          const answers = await exchange(client, buffer, false);
          expect(answers).toHaveLength(1);
          if (verdict === 'pong') expect(answers[0].event).toBe('pong');
          else expectCleanError(answers[0], verdict);
        }),
        { numRuns: 300 },
      );
      expect(client.socket.readyState).toBe(1);
    });

    it('wrong types for event and data, unknown events, prototype keys: one clear answer', async () => {
      const client = await ready('fuzz-structured');
      await fc.assert(
        fc.asyncProperty(structuredFrameArb, async (text) => {
          fc.pre(fuzzable(frameVerdict(text)));
          await expectAnswered(client, text);
        }),
        { numRuns: 500 },
      );
      expect(client.socket.readyState).toBe(1);
    });

    it('deep nesting, huge numbers, prototype keys, binary: each its own clear error', async () => {
      const client = await ready('fuzz-explicit');
      const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
      const cases: [string | Buffer, string][] = [
        ['['.repeat(100_000), 'bad_frame'],
        ['{'.repeat(100_000), 'bad_frame'],
        [deep(60_000), 'bad_frame'],
        [`{"event":${deep(50_000)}}`, 'bad_frame'],
        [`{"event":"read","data":{"ids":${deep(50_000)}}}`, 'invalid_data'],
        [`{"event":"read","data":{"ids":[${deep(30_000)}]}}`, 'invalid_data'],
        [`{"event":"ping","data":{"ts":${deep(50_000)}}}`, 'invalid_data'],
        [`{"event":"ping","data":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}}`, 'invalid_data'],
        ['{"event":"ping","data":{"ts":1e999}}', 'invalid_data'],
        ['{"event":"ping","data":{"ts":-1e400}}', 'invalid_data'],
        [`{"event":"ping","data":{"ts":${'9'.repeat(400)}}}`, 'invalid_data'],
        [`{"event":"ping","data":{"ts":-${'9'.repeat(100_000)}}}`, 'invalid_data'],
        [`{"event":"ping","data":{"ts":"${'9'.repeat(1000)}"}}`, 'invalid_data'],
        ['{"event":1e999,"data":{}}', 'bad_frame'],
        [`{"event":${'1'.repeat(5000)}}`, 'bad_frame'],
        ['{"event":"read","data":{"ids":[1e999]}}', 'invalid_data'],
        ['{"event":"read","data":{"all":1e999}}', 'invalid_data'],
        ['{"__proto__":{"event":"ping"},"event":"ping"}', 'bad_frame'],
        ['{"event":"ping","__proto__":{"data":{}}}', 'bad_frame'],
        ['{"event":"ping","constructor":{"prototype":{"polluted":true}}}', 'bad_frame'],
        ['{"event":"ping","prototype":{}}', 'bad_frame'],
        ['{"event":"ping","data":{"__proto__":{"ts":1}}}', 'invalid_data'],
        ['{"event":"ping","data":{"constructor":{"prototype":{"ts":1}}}}', 'invalid_data'],
        ['{"event":"ping","data":{"prototype":{"ts":1}}}', 'invalid_data'],
        ['{"event":"read","data":{"all":true,"__proto__":{"ids":["x"]}}}', 'invalid_data'],
        ['{"event":"read","data":{"ids":["x"],"__proto__":{"all":true}}}', 'invalid_data'],
        ['{"event":"read","data":{"ids":["x"],"constructor":{}}}', 'invalid_data'],
        ['{"event":"read","data":{"ids":["x"],"toString":1}}', 'invalid_data'],
        ['{"event":"read","data":{"ids":{"length":1,"0":"x"}}}', 'invalid_data'],
        ['{"event":"read","data":{"ids":[]}}', 'invalid_data'],
        [
          `{"event":"read","data":{"ids":${JSON.stringify(Array(1001).fill('x'))}}}`,
          'invalid_data',
        ],
        ['{"event":"read","data":{"all":"true"}}', 'invalid_data'],
        ['{"event":"read","data":{"all":false}}', 'invalid_data'],
        ['{"event":"read","data":{"ids":["x"],"all":true}}', 'invalid_data'],
        ['{"event":"__proto__","data":{}}', 'unknown_event'],
        ['{"event":"constructor","data":{}}', 'unknown_event'],
        ['{"event":"toString"}', 'unknown_event'],
        ['{"event":"hasOwnProperty","data":{}}', 'unknown_event'],
        ['{"event":"","data":{}}', 'unknown_event'],
        ['{"event":null,"data":{}}', 'bad_frame'],
        ['{"event":["ping"],"data":{}}', 'bad_frame'],
        ['{"event":{"toString":"ping"},"data":{}}', 'bad_frame'],
        ['{"event":"ping","data":"{}"}', 'invalid_data'],
        ['{"event":"ping","data":[]}', 'invalid_data'],
        ['{"event":"ping","data":0}', 'invalid_data'],
        ['{"event":"ping","data":true}', 'invalid_data'],
        ['{"event":"read","data":"all"}', 'invalid_data'],
        ['', 'bad_frame'],
        ['\uFEFF{"event":"ping"}', 'bad_frame'],
        ['null', 'bad_frame'],
        ['"ping"', 'bad_frame'],
        [Buffer.from([0x7b, 0x7d]), 'bad_frame'],
        [randomBytes(70_000), 'bad_frame'],
      ];
      for (const [raw, code] of cases) {
        const binary = Buffer.isBuffer(raw);
        const answers = await exchange(client, raw, binary);
        const label = binary ? `${raw.length} binary bytes` : (raw as string).slice(0, 80);
        expect(answers, label).toHaveLength(1);
        expectCleanError(answers[0], code);
      }
      // Nothing was polluted: a plain ping still gets a plain pong, a huge finite ts is echoed.
      expect(await exchange(client, '{"event":"ping"}')).toEqual([{ event: 'pong', data: {} }]);
      expect(await exchange(client, `{"event":"ping","data":{"ts":${'9'.repeat(300)}}}`)).toEqual([
        { event: 'pong', data: { ts: Number('9'.repeat(300)) } },
      ]);
      expect(await exchange(client, '{"event":"ping","data":{"ts":1e-400}}')).toEqual([
        { event: 'pong', data: { ts: 0 } },
      ]);
    });

    it('invalid UTF-8 in a text frame: closed with 1007; the same user’s other tab is untouched', async () => {
      const other = await ready('utf8-breaker');
      const breaker = await ready('utf8-breaker');
      breaker.sendRaw(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]), false);
      expect((await breaker.waitClosed()).code).toBe(1007);
      expect(breaker.all('error')).toEqual([]);
      expect(await exchange(other, '{"event":"ping","data":{"ts":7}}')).toEqual([
        { event: 'pong', data: { ts: 7 } },
      ]);
      await ready('utf8-breaker');
    });

    it('many tiny fragments make one frame; too many fragments → 1008; too many bytes → 1009', async () => {
      const client = await ready('fragmenter');
      const frame = JSON.stringify({ event: 'ping', data: { ts: 4242 } }).padEnd(3000, ' ');
      for (const byte of frame.slice(0, -1)) client.socket.send(byte, { fin: false });
      client.socket.send(frame.slice(-1), { fin: true });
      expect(await client.next('pong')).toEqual({ ts: 4242 });

      // 10,000 empty continuation fragments, then the frame in one piece: still one frame.
      client.socket.send('', { fin: false });
      for (let i = 0; i < 10_000; i++) client.socket.send('', { fin: false });
      client.socket.send('{"event":"ping","data":{"ts":4343}}', { fin: true });
      expect(await client.next('pong', 10_000)).toEqual({ ts: 4343 });
      expect(client.all('error')).toEqual([]);

      // More bytes than MAX_FRAME_BYTES, in 1,000-byte fragments.
      const chunk = 'x'.repeat(1000);
      for (let i = 0; i < 300; i++) client.socket.send(chunk, { fin: false });
      client.socket.send('x', { fin: true });
      expect((await client.waitClosed()).code).toBe(1009);
      expect(client.all('error')).toEqual([]);

      // More fragments than ws accepts for one message (16,384), even empty ones: 1008.
      const splitter = await ready('fragmenter');
      splitter.socket.send('', { fin: false });
      for (let i = 0; i < 20_000; i++) splitter.socket.send('', { fin: false });
      expect((await splitter.waitClosed(10_000)).code).toBe(1008);
      expect(splitter.all('error')).toEqual([]);
    });

    // ws closes on these protocol errors itself (1007, 1008, 1009) with an empty reason; the
    // service logs them without a stack (checked in 'afterwards').
  });

  describe('afterwards', () => {
    it('the process is up, its memory bounded, the bystander got every notification in order, and its log holds no token, secret or stack trace', async () => {
      await watched.expectUnharmed('hostile-frames');
    });
  });
});
