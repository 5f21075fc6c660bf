import { createHmac, randomBytes } from 'node:crypto';
import { http } from '../kit/http.mjs';
import { rawExchange, upgradeHead } from '../kit/raw-http.mjs';
import type { ServiceProcess } from '../kit/service.mjs';
import { TEST_JWT_SECRET, signToken, tokenWith, unsignedToken } from '../kit/tokens.mjs';
import { JWT_SHAPE, STACK_LINE } from '../kit/watched-service.js';
import { TestClient } from '../kit/ws-client.js';
import { exchange } from './hostile/frames.js';
import { useHostileService } from './hostile/targets.js';

/**
 * Hostile WebSocket handshakes against the built service (its own process): oversized requests,
 * forged and malformed tokens, hostile `since` and `Origin` values. Each is refused cleanly (a 401,
 * 403 or 431, or a close) and nothing else is harmed (see hostile-frames for the checks).
 */

/** A token signed with HMAC-SHA256 under any header (e.g. `alg: RS256`), by hand. */
function hmacToken(header: object, payload: object, key: string): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${encode(header)}.${encode(payload)}`;
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
}

const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

/** The HTTP status of the server's answer to `head`, or undefined when it closed without one. */
async function rawHttp(port: number, head: string): Promise<number | undefined> {
  return (await rawExchange(port, head, { untilHead: true })).status;
}

describe('hostile handshakes against the built service (e2e)', { timeout: 60_000 }, () => {
  const watched = useHostileService('hostile-handshakes');
  let s: ServiceProcess;
  beforeAll(() => {
    s = watched.service;
  });
  const connect = (options: Parameters<typeof TestClient.connect>[1] = {}) =>
    watched.connect(options);
  const ready = (sub: string) => watched.ready(sub);

  describe('handshakes', () => {
    /** The upgrade is answered 401, never 101: the client holds no socket and gets no frame. */
    async function expectRefused(client: TestClient, reason: RegExp): Promise<void> {
      const closed = await client.waitClosed();
      expect(closed.status).toBe(401);
      expect(closed.reason).toMatch(reason);
      expect(closed.reason).not.toMatch(JWT_SHAPE);
      expect(closed.reason).not.toMatch(STACK_LINE);
      expect(client.frames).toEqual([]);
    }

    it('oversized requests are refused by the HTTP layer (431 or a close), never a crash', async () => {
      const token = await signToken('oversized');
      const manyHeaders = Array.from(
        { length: 2000 },
        (_, i) => `X-Hostile-${i}: ${'v'.repeat(10)}`,
      );
      const tinyHeaders = Array.from({ length: 2000 }, (_, i) => `h${i}:1`);
      const hugeToken = await tokenWith({
        sub: 'oversized',
        exp: inAnHour(),
        pad: 'x'.repeat(1 << 20),
      });
      const outcomes = {
        '2000 headers on /health/live': await rawHttp(
          s.port,
          ['GET /health/live HTTP/1.1', 'Host: 127.0.0.1', ...manyHeaders, '', ''].join('\r\n'),
        ),
        '2000 headers on an upgrade': await rawHttp(
          s.port,
          upgradeHead(`/ws?token=${token}`, manyHeaders),
        ),
        '64 KiB Sec-WebSocket-Protocol': await rawHttp(
          s.port,
          upgradeHead('/ws', [`Sec-WebSocket-Protocol: bearer, ${'a'.repeat(64 * 1024)}`]),
        ),
        '1 MiB token in the query': await rawHttp(
          s.port,
          upgradeHead(`/ws?token=${hugeToken}`, []),
        ),
        '1 MiB token as subprotocol': await rawHttp(
          s.port,
          upgradeHead('/ws', [`Sec-WebSocket-Protocol: bearer, ${hugeToken}`]),
        ),
      };
      for (const [what, status] of Object.entries(outcomes)) {
        expect([431, undefined], what).toContain(status);
      }
      // 2,000 small headers fit in the header size limit: the upgrade is answered either way.
      expect([101, 400, 431, undefined]).toContain(
        await rawHttp(s.port, upgradeHead(`/ws?token=${token}`, tinyHeaders)),
      );
      // Garbage that is not HTTP at all.
      expect([400, undefined]).toContain(
        await rawHttp(s.port, `${randomBytes(64).toString('latin1')}\r\n\r\n`),
      );
      expect([400, undefined]).toContain(
        await rawHttp(
          s.port,
          'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
        ),
      );
      expect((await http('GET', `${s.httpUrl}/health/live`)).status).toBe(200);
      await ready('oversized');
    });

    it('tokens just under the header limit: a forged one gets 401, a genuine one connects', async () => {
      const pad = 'p'.repeat(11_000);
      const forged = await tokenWith({ sub: 'big-claims', exp: inAnHour(), pad }, 'x'.repeat(40));
      const genuine = await tokenWith({ sub: 'big-claims', exp: inAnHour(), pad });
      expect(genuine.length).toBeGreaterThan(14_000);
      await expectRefused(connect({ token: forged, viaProtocol: true }), /signature/);
      await expectRefused(connect({ token: forged }), /signature/);
      await connect({ token: genuine, viaProtocol: true }).next('ready');
      await connect({ token: genuine }).next('ready');
    });

    it('hostile tokens are refused with 401 and receive nothing', async () => {
      const exp = inAnHour();
      const refused: [string, string, RegExp][] = [
        ['alg none', unsignedToken('intruder'), /token/],
        [
          'alg None',
          `${Buffer.from('{"alg":"None"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'intruder', exp })).toString('base64url')}.`,
          /token/,
        ],
        [
          'RS256 header, HMAC with the HS secret',
          hmacToken({ alg: 'RS256', typ: 'JWT' }, { sub: 'intruder', exp }, TEST_JWT_SECRET),
          /algorithm/,
        ],
        [
          'HS512 header, HMAC-SHA256 with the secret',
          hmacToken({ alg: 'HS512' }, { sub: 'intruder', exp }, TEST_JWT_SECRET),
          /algorithm/,
        ],
        ['empty sub', await tokenWith({ sub: '', exp }), /sub/],
        ['sub of 129 chars', await tokenWith({ sub: 's'.repeat(129), exp }), /sub/],
        ['numeric sub', await tokenWith({ sub: 42, exp }), /sub|token/],
        ['object sub', await tokenWith({ sub: { id: 'x' }, exp }), /sub|token/],
        ['no sub', await tokenWith({ exp }), /sub|token/],
        ['no exp', await tokenWith({ sub: 'intruder' }), /exp|token/],
        ['exp as a string', await tokenWith({ sub: 'intruder', exp: String(exp) }), /exp|token/],
        [
          'nbf in the future',
          await tokenWith({ sub: 'intruder', exp, nbf: exp - 60 }),
          /nbf|token/,
        ],
        [
          'crit header',
          hmacToken({ alg: 'HS256', crit: ['x'], x: 1 }, { sub: 'i', exp }, TEST_JWT_SECRET),
          /token/,
        ],
        ['three dots', '...', /token/],
        ['garbage', 'a.b.c', /token/],
        ['JSON array header', `${Buffer.from('[]').toString('base64url')}.e30.`, /token/],
        [
          'prototype header',
          hmacToken(
            JSON.parse('{"__proto__":{"alg":"HS256"}}') as object,
            { sub: 'i', exp },
            TEST_JWT_SECRET,
          ),
          /token|algorithm/,
        ],
      ];
      for (const [, token, reason] of refused) {
        await expectRefused(connect({ token }), reason);
      }
      await expectRefused(connect({ token: refused[2][1], viaProtocol: true }), /algorithm/);
      // A sub of exactly 128 chars and an exp 23 hours ahead are fine; an exp beyond
      // JWT_MAX_TOKEN_LIFETIME_SECONDS (a day by default) is not.
      await connect({ token: await tokenWith({ sub: 's'.repeat(128), exp }) }).next('ready');
      const longLived = await tokenWith({ sub: 'long-lived', exp: inAnHour() + 22 * 3600 });
      const client = connect({ token: longLived });
      await client.next('ready');
      expect(await exchange(client, '{"event":"ping"}')).toEqual([{ event: 'pong', data: {} }]);
      await expectRefused(
        connect({ token: await tokenWith({ sub: 'far-future', exp: 1e12 }) }),
        /lifetime too long/,
      );
    });

    it('a token in both the query and the subprotocol: the subprotocol wins', async () => {
      const good = await signToken('both-places');
      const bad = unsignedToken('both-places');
      const url = new URL(s.wsUrl);
      url.searchParams.set('token', good);
      const badProtocol = TestClient.connect(url.toString(), { token: bad, viaProtocol: true });
      watched.track(badProtocol);
      await expectRefused(badProtocol, /token/);
      url.searchParams.set('token', bad);
      const goodProtocol = TestClient.connect(url.toString(), { token: good, viaProtocol: true });
      watched.track(goodProtocol);
      expect((await goodProtocol.next('ready')).userId).toBe('both-places');
    });

    it('hostile since and origin values: a clean answer, never 1011', async () => {
      const token = await signToken('hostile-since');
      for (const since of [
        'x'.repeat(3000),
        '__proto__',
        'constructor',
        '1-99999999999999999999999',
        '-1',
        'NaN-NaN',
        'Infinity-1',
        '*',
        '{a}',
        '\u0000',
        'a-1e999',
        '%zz',
      ]) {
        const client = connect({ token, since });
        const readyFrame = await client.next('ready');
        expect(readyFrame).toMatchObject({ userId: 'hostile-since', replayed: 0 });
        expect(typeof readyFrame.truncated).toBe('boolean');
        await client.close();
      }
      // In production without ALLOWED_ORIGINS only the page's own origin may connect.
      for (const origin of ['null', 'http://[::', 'https://evil.example']) {
        const client = connect({ token, origin });
        expect(await client.waitClosed()).toMatchObject({ status: 403, reason: /origin/ });
      }
      expect((await http('GET', `${s.httpUrl}/health/live`)).status).toBe(200);
      await ready('after-handshakes');
    });
  });

  describe('afterwards', () => {
    it('the process is up, its memory bounded, the bystander got every notification in order, and its log holds no token, secret or stack trace', async () => {
      await watched.expectUnharmed('hostile-handshakes');
    });
  });
});
