import { SignJWT, exportSPKI, generateKeyPair } from 'jose';
import { once } from 'node:events';
import { connect as connectTcp } from 'node:net';
import { upgradeHead } from './kit/raw-http.mjs';
import { closeAfterEach, TestClient } from './kit/ws-client.js';
import { startTestApp, type TestApp } from './kit/test-app.js';
import { TEST_JWT_SECRET, signToken, unsignedToken } from './kit/tokens.mjs';

describe('wire protocol v1 (e2e)', () => {
  let t: TestApp;
  const track = closeAfterEach();

  function connect(options: Parameters<typeof TestClient.connect>[1] = {}) {
    const client = TestClient.connect(t.wsUrl, options);
    track(client);
    return client;
  }

  beforeAll(async () => {
    t = await startTestApp({
      ALLOWED_ORIGINS: 'https://app.example',
      MAX_MESSAGES_PER_MINUTE: '20',
    });
  });
  afterAll(async () => {
    await t.close();
  });

  describe('refused upgrades and close codes', () => {
    /** The upgrade is answered with `status` and never a 101: no socket, no frame. */
    async function expectRejected(
      options: Parameters<typeof connect>[0],
      status: 401 | 403,
      reason: RegExp,
    ) {
      const client = connect(options);
      const closed = await client.waitClosed();
      expect(closed.status).toBe(status);
      expect(closed.reason).toMatch(reason);
      expect(client.frames).toEqual([]);
    }

    it('401 without a token', () => expectRejected({}, 401, /missing token/));

    it('401 for a malformed token', () => expectRejected({ token: 'not.a.jwt' }, 401, /token/));

    it('401 for an expired token', async () =>
      expectRejected(
        { token: await signToken('u', { expiresIn: Math.floor(Date.now() / 1000) - 60 }) },
        401,
        /expired/,
      ));

    it('401 for alg none', () => expectRejected({ token: unsignedToken('u') }, 401, /token/));

    it('401 for a token signed with another secret', async () =>
      expectRejected(
        { token: await signToken('u', { secret: 'some-other-secret-of-enough-length!!' }) },
        401,
        /signature/,
      ));

    it('401 for an algorithm outside the allowed list', async () =>
      expectRejected({ token: await signToken('u', { alg: 'HS512' }) }, 401, /algorithm/));

    it('401 for an RS256 token, even one signed with the HS secret as key material', async () => {
      const { privateKey, publicKey } = await generateKeyPair('RS256');
      const rs = await new SignJWT({})
        .setProtectedHeader({ alg: 'RS256' })
        .setSubject('u')
        .setExpirationTime('1h')
        .sign(privateKey);
      await expectRejected({ token: rs }, 401, /algorithm/);
      // The classic confusion: the attacker signs HS256 with the public key text; our key is the secret.
      const pem = await exportSPKI(publicKey);
      const confused = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('u')
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(pem));
      await expectRejected({ token: confused }, 401, /signature/);
    });

    it('401 for an empty sub', async () => {
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('')
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(TEST_JWT_SECRET));
      await expectRejected({ token }, 401, /sub/);
    });

    it('403 for an origin not in ALLOWED_ORIGINS, before looking at the token', async () => {
      await expectRejected(
        { token: await signToken('u'), origin: 'https://evil.example' },
        403,
        /origin/,
      );
      const allowed = connect({ token: await signToken('u'), origin: 'https://app.example' });
      await allowed.next('ready');
    });

    it('1009 for a frame over 64 KiB', async () => {
      const client = connect({ token: await signToken('big-sender') });
      await client.next('ready');
      client.send('ping', { ts: 1, pad: 'x'.repeat(64 * 1024) });
      expect((await client.waitClosed()).code).toBe(1009);
    });

    it('4429 for an 11th socket of one user, while the first ten and other users stay', async () => {
      const token = await signToken('many-tabs');
      const tabs = Array.from({ length: 10 }, () => connect({ token }));
      expect(await Promise.all(tabs.map((tab) => tab.next('ready')))).toHaveLength(10);
      const eleventh = connect({ token });
      expect(await eleventh.waitClosed()).toMatchObject({
        code: 4429,
        reason: /too many connections/,
      });
      await connect({ token: await signToken('someone-else') }).next('ready');
      const [first] = tabs;
      first.send('ping', { ts: 2 });
      expect(await first.next('pong')).toEqual({ ts: 2 });
    });
  });

  describe('the handshake', () => {
    it('sends the 101 and the ready frame in one write: the client reads them together', async () => {
      const port = Number(new URL(t.wsUrl).port);
      const path = new URL(t.wsUrl).pathname;
      const head = upgradeHead(path, [
        'Origin: https://app.example',
        `Sec-WebSocket-Protocol: bearer, ${await signToken('one-write')}`,
      ]);
      const socket = connectTcp(port, '127.0.0.1');
      try {
        socket.write(head);
        const [first] = (await once(socket, 'data')) as [Buffer];
        const text = first.toString('latin1');
        expect(text).toMatch(/^HTTP\/1\.1 101 /);
        // The 101's head, then an unmasked text frame (FIN, opcode 1) that is `ready`.
        const frame = first.subarray(text.indexOf('\r\n\r\n') + 4);
        expect(frame[0]).toBe(0x81);
        expect(frame.toString('utf8')).toContain('{"event":"ready"');
      } finally {
        socket.destroy();
      }
    });
  });

  describe('client frames', () => {
    it('answers ping with pong', async () => {
      const client = connect({ token: await signToken('pinger') });
      await client.next('ready');
      client.send('ping');
      expect(await client.next('pong')).toEqual({});
    });

    it('answers every bad frame with an error event and keeps the connection', async () => {
      const client = connect({ token: await signToken('garbage') });
      await client.next('ready');
      const cases: [string | Buffer, boolean, string][] = [
        ['{not json', false, 'bad_frame'],
        ['[1,2,3]', false, 'bad_frame'],
        ['42', false, 'bad_frame'],
        ['{"data":{}}', false, 'bad_frame'],
        ['{"event":"nope","data":{}}', false, 'unknown_event'],
        ['{"event":"read","data":{"ids":"x"}}', false, 'invalid_data'],
        ['{"event":"read","data":{"ids":["a"],"all":true}}', false, 'invalid_data'],
        ['{"event":"read","data":{"__proto__":{"x":1}}}', false, 'invalid_data'],
        [Buffer.from([1, 2, 3]), true, 'bad_frame'],
      ];
      for (const [raw, binary, code] of cases) {
        client.sendRaw(raw, binary);
        const error = await client.next('error');
        expect(error.code).toBe(code);
        expect(typeof error.message).toBe('string');
        expect(error.message).not.toMatch(/\n\s+at /);
      }
      client.send('ping');
      await client.next('pong');
    });

    it('rate-limits a flooding socket with an error, then 4429, and no one else', async () => {
      const flooder = connect({ token: await signToken('flooder') });
      const bystander = connect({ token: await signToken('bystander') });
      await Promise.all([flooder.next('ready'), bystander.next('ready')]);
      for (let i = 0; i < 25; i++) flooder.send('ping');
      expect(await flooder.next('error')).toMatchObject({ code: 'rate_limited' });
      expect((await flooder.waitClosed()).code).toBe(4429);
      bystander.send('ping');
      await bystander.next('pong');
    });
  });
});

describe('token expiry during a connection (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ TOKEN_EXPIRY_GRACE_MS: '0' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('closes the socket with 4401 when its token expires, and a fresh token reconnects', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const client = await TestClient.ready(t.wsUrl, {
      token: await signToken('short-lived', { expiresIn: exp }),
    });
    const closed = await client.waitClosed(6000);
    expect(closed).toMatchObject({ code: 4401, reason: /token expired/ });
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
    const again = await TestClient.ready(t.wsUrl, { token: await signToken('short-lived') });
    await again.close();
  });
});
