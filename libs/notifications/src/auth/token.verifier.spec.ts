import { createHmac, webcrypto } from 'node:crypto';
import { exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { InvalidTokenError } from '../errors/invalid-token.error.js';
import type { JwtVerificationOptions } from '../interfaces/notifications-options.interface.js';
import { NotificationsSettings } from '../notifications.settings.js';
import { TokenVerifier } from './token.verifier.js';

const SECRET = 'unit-test-secret-that-is-long-enough-for-hs256';
const secretKey = (secret: string) => new TextEncoder().encode(secret);
const nowSeconds = () => Math.floor(Date.now() / 1000);

const verifier = (jwt: JwtVerificationOptions) =>
  new TokenVerifier(new NotificationsSettings({ jwt }));

interface SignOptions {
  alg?: string;
  key?: Uint8Array | CryptoKey;
  sub?: string;
  exp?: number;
  claims?: JWTPayload;
}

const sign = ({
  alg = 'HS256',
  key = secretKey(SECRET),
  sub = 'user-1',
  exp = nowSeconds() + 3600,
  claims = {},
}: SignOptions = {}): Promise<string> =>
  new SignJWT(claims)
    .setProtectedHeader({ alg })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(exp)
    .sign(key);

const b64url = (value: object | string) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** Rejects with InvalidTokenError whose message does not leak the token; returns the reason. */
const rejectionOf = async (sut: TokenVerifier, token: string): Promise<string> => {
  const error: unknown = await sut.verify(token).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(InvalidTokenError);
  const { message, reason } = error as InvalidTokenError;
  if (token) expect(message).not.toContain(token);
  for (const part of token.split('.').filter((p) => p.length > 8)) {
    expect(message).not.toContain(part);
  }
  return reason;
};

describe(TokenVerifier.name, () => {
  describe('with a secret (HS256)', () => {
    let sut: TokenVerifier;

    beforeEach(() => {
      sut = verifier({ secret: SECRET });
    });

    it('verifies a valid token', async () => {
      const exp = nowSeconds() + 3600;

      await expect(sut.verify(await sign({ exp }))).resolves.toEqual({
        userId: 'user-1',
        expiresAt: exp * 1000,
      });
    });

    it('accepts a token expired within the 5 s tolerance', async () => {
      const token = await sign({ exp: nowSeconds() - 1 });

      await expect(sut.verify(token)).resolves.toMatchObject({ userId: 'user-1' });
    });

    it('rejects a token expired beyond the tolerance', async () => {
      const token = await sign({ exp: nowSeconds() - 60 });

      expect(await rejectionOf(sut, token)).toBe('token expired');
    });

    it('rejects a token signed with another secret', async () => {
      const token = await sign({ key: secretKey('another-secret-that-is-also-long-enough!') });

      expect(await rejectionOf(sut, token)).toBe('token signature invalid');
    });

    it('rejects an unsigned alg:none token', async () => {
      const token = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({
        sub: 'user-1',
        exp: nowSeconds() + 3600,
      })}.`;

      expect(await rejectionOf(sut, token)).toBe('token algorithm not allowed');
    });

    it('rejects an HS384 token when only HS256 is allowed', async () => {
      const token = await sign({ alg: 'HS384' });

      expect(await rejectionOf(sut, token)).toBe('token algorithm not allowed');
    });

    it('accepts HS384 when it is configured', async () => {
      const token = await sign({ alg: 'HS384' });

      await expect(
        verifier({ secret: SECRET, algorithms: ['HS384'] }).verify(token),
      ).resolves.toMatchObject({ userId: 'user-1' });
    });

    it('verifies HMAC tokens on node:crypto, not WebCrypto: settled within the same turn', async () => {
      const subtle = [
        vi.spyOn(webcrypto.subtle, 'importKey'),
        vi.spyOn(webcrypto.subtle, 'verify'),
      ];
      try {
        const sut = verifier({ secret: SECRET, algorithms: ['HS256', 'HS384', 'HS512'] });
        const tokens = await Promise.all(['HS256', 'HS384', 'HS512'].map((alg) => sign({ alg })));
        const otherSecret = await sign({ key: secretKey(`${SECRET}-other`) });
        for (const spy of subtle) spy.mockClear();

        const settled: string[] = [];
        const verified = tokens.map((token, i) =>
          sut.verify(token).then(({ userId }) => settled.push(`${i}:${userId}`)),
        );
        await new Promise<void>((resolve) => queueMicrotask(resolve));
        await Promise.resolve();
        expect(settled).toEqual(['0:user-1', '1:user-1', '2:user-1']);
        await Promise.all(verified);
        expect(await rejectionOf(sut, otherSecret)).toBe('token signature invalid');

        for (const spy of subtle) expect(spy).not.toHaveBeenCalled();
      } finally {
        for (const spy of subtle) spy.mockRestore();
      }
    });

    it('rejects a token with a critical header extension (none is understood)', async () => {
      const input = `${b64url({ alg: 'HS256', crit: ['x-ext'], 'x-ext': 1 })}.${b64url({
        sub: 'user-1',
        exp: nowSeconds() + 3600,
      })}`;
      const signature = createHmac('sha256', SECRET).update(input).digest('base64url');

      expect(await rejectionOf(sut, `${input}.${signature}`)).toBe('token invalid');
    });

    it('rejects a token not valid yet (nbf beyond the tolerance)', async () => {
      const token = await sign({ claims: { nbf: nowSeconds() + 60 } });

      expect(await rejectionOf(sut, token)).toBe('token claim nbf invalid');
    });

    it('rejects a token without exp', async () => {
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('user-1')
        .sign(secretKey(SECRET));

      expect(await rejectionOf(sut, token)).toBe('token claim exp invalid');
    });

    it('rejects a token without sub', async () => {
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime('1h')
        .sign(secretKey(SECRET));

      expect(await rejectionOf(sut, token)).toBe('token claim sub invalid');
    });

    it('rejects an empty sub', async () => {
      const token = await sign({ sub: '' });

      expect(await rejectionOf(sut, token)).toBe('token sub must be 1-128 chars');
    });

    it('accepts a sub of 128 chars and rejects one of 129', async () => {
      await expect(sut.verify(await sign({ sub: 'u'.repeat(128) }))).resolves.toMatchObject({
        userId: 'u'.repeat(128),
      });

      expect(await rejectionOf(sut, await sign({ sub: 'u'.repeat(129) }))).toBe(
        'token sub must be 1-128 chars',
      );
    });

    it.each([
      ['a lone high surrogate', '\ud800'],
      ['a lone low surrogate', 'user-\udfff'],
      ['U+FFFD', '\ufffd'],
    ])('rejects a sub with %s: it would share keys with other ids', async (_, sub) => {
      const token = await sign({ sub });
      expect(JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sub).toBe(sub);

      expect(await rejectionOf(sut, token)).toMatch(/^token sub must be well-formed Unicode/);
    });

    it('rejects a payload that is not UTF-8 (it would decode to U+FFFD)', async () => {
      const payload = Buffer.concat([
        Buffer.from('{"sub":"'),
        Buffer.from([0xff]),
        Buffer.from(`","exp":${nowSeconds() + 3600}}`),
      ]);
      const input = `${b64url('{"alg":"HS256"}')}.${payload.toString('base64url')}`;
      const signature = createHmac('sha256', SECRET).update(input).digest('base64url');

      expect(await rejectionOf(sut, `${input}.${signature}`)).toMatch(/^token (invalid|sub)/);
    });

    it('accepts astral characters in a sub', async () => {
      await expect(sut.verify(await sign({ sub: 'ada-😀' }))).resolves.toMatchObject({
        userId: 'ada-😀',
      });
    });

    it('rejects a non-string sub', async () => {
      const token = await new SignJWT({ sub: 42 } as unknown as JWTPayload)
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime('1h')
        .sign(secretKey(SECRET));

      await rejectionOf(sut, token);
    });

    it.each([
      ['an empty string', ''],
      ['garbage', 'not-a-jwt'],
      ['two parts', 'a.b'],
    ])('rejects %s', async (_, token) => {
      expect(await rejectionOf(sut, token)).toBe('token invalid');
    });

    it('rejects a token whose payload was swapped', async () => {
      const [header, , signature] = (await sign()).split('.');
      const token = `${header}.${b64url({ sub: 'admin', exp: nowSeconds() + 3600 })}.${signature}`;

      expect(await rejectionOf(sut, token)).toBe('token signature invalid');
    });
  });

  describe('maximum lifetime', () => {
    let sut: TokenVerifier;

    beforeEach(() => {
      sut = verifier({ secret: SECRET, maxLifetimeSeconds: 3600 });
    });

    it('accepts a token that expires within the bound (plus the clock tolerance)', async () => {
      await expect(sut.verify(await sign({ exp: nowSeconds() + 3600 }))).resolves.toBeDefined();
      await expect(sut.verify(await sign({ exp: nowSeconds() + 3603 }))).resolves.toBeDefined();
    });

    it('refuses a token valid for longer, or practically forever', async () => {
      expect(await rejectionOf(sut, await sign({ exp: nowSeconds() + 3700 }))).toBe(
        'token lifetime too long: exp may be at most 3600 s ahead',
      );
      expect(await rejectionOf(sut, await sign({ exp: 1e12 }))).toMatch(/lifetime too long/);
    });

    it('is off when unset or 0', async () => {
      const far = await sign({ exp: nowSeconds() + 10 * 365 * 24 * 3600 });
      await expect(verifier({ secret: SECRET }).verify(far)).resolves.toBeDefined();
      await expect(
        verifier({ secret: SECRET, maxLifetimeSeconds: 0 }).verify(far),
      ).resolves.toBeDefined();
    });
  });

  describe('issuer and audience', () => {
    let sut: TokenVerifier;

    beforeEach(() => {
      sut = verifier({ secret: SECRET, issuer: 'https://auth.example', audience: 'notifications' });
    });

    it('accepts the configured issuer and audience', async () => {
      const token = await sign({ claims: { iss: 'https://auth.example', aud: 'notifications' } });

      await expect(sut.verify(token)).resolves.toMatchObject({ userId: 'user-1' });
    });

    it('rejects another issuer', async () => {
      const token = await sign({ claims: { iss: 'https://evil.example', aud: 'notifications' } });

      expect(await rejectionOf(sut, token)).toBe('token claim iss invalid');
    });

    it('rejects another audience', async () => {
      const token = await sign({ claims: { iss: 'https://auth.example', aud: 'billing' } });

      expect(await rejectionOf(sut, token)).toBe('token claim aud invalid');
    });

    it('rejects a token without iss or aud', async () => {
      expect(await rejectionOf(sut, await sign({ claims: { aud: 'notifications' } }))).toBe(
        'token claim iss invalid',
      );
      expect(await rejectionOf(sut, await sign({ claims: { iss: 'https://auth.example' } }))).toBe(
        'token claim aud invalid',
      );
    });
  });

  describe('with a public key (RS256)', () => {
    let privateKey: CryptoKey;
    let publicKeyPem: string;
    let sut: TokenVerifier;

    beforeAll(async () => {
      const pair = await generateKeyPair('RS256', { extractable: true });
      privateKey = pair.privateKey;
      publicKeyPem = await exportSPKI(pair.publicKey);
    });

    beforeEach(() => {
      sut = verifier({ publicKey: publicKeyPem });
    });

    it('verifies an RS256 token', async () => {
      const exp = nowSeconds() + 600;
      const token = await sign({ alg: 'RS256', key: privateKey, exp });

      await expect(sut.verify(token)).resolves.toEqual({ userId: 'user-1', expiresAt: exp * 1000 });
    });

    it('rejects an RS256 token signed by another key', async () => {
      const other = await generateKeyPair('RS256');
      const token = await sign({ alg: 'RS256', key: other.privateKey });

      expect(await rejectionOf(sut, token)).toBe('token signature invalid');
    });

    it('rejects an HS256 token signed with the public key PEM as secret', async () => {
      const token = await sign({ alg: 'HS256', key: secretKey(publicKeyPem) });

      expect(await rejectionOf(sut, token)).toBe('token algorithm not allowed');
    });

    it('rejects a token claiming RS256 but HMAC-signed with the public key PEM', async () => {
      const signingInput = `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url({
        sub: 'user-1',
        exp: nowSeconds() + 3600,
      })}`;
      const signature = createHmac('sha256', publicKeyPem).update(signingInput).digest('base64url');
      const token = `${signingInput}.${signature}`;

      expect(await rejectionOf(sut, token)).toBe('token signature invalid');
    });

    it('rejects an HS256 token signed with the shared secret', async () => {
      expect(await rejectionOf(sut, await sign())).toBe('token algorithm not allowed');
    });
  });

  describe('configuration', () => {
    it('refuses a secret with RS256', () => {
      expect(() => verifier({ secret: SECRET, algorithms: ['RS256'] })).toThrow(/jwt\.algorithms/);
    });

    it('refuses a secret with a mix of HMAC and RS256', () => {
      expect(() => verifier({ secret: SECRET, algorithms: ['HS256', 'RS256'] })).toThrow(
        /jwt\.algorithms/,
      );
    });

    it('refuses a public key with HS256', async () => {
      const pair = await generateKeyPair('RS256', { extractable: true });
      const publicKey = await exportSPKI(pair.publicKey);

      expect(() => verifier({ publicKey, algorithms: ['HS256'] })).toThrow(/jwt\.algorithms/);
    });

    it('verifies nothing without a secret or public key, and says why', async () => {
      const sut = verifier({});

      await expect(sut.verify(await sign())).rejects.toThrow(/jwt\.secret or jwt\.publicKey/);
    });

    it.each([
      ['the gateway', { gateway: true, inbox: false }],
      ['the HTTP inbox', { gateway: false, inbox: true }],
    ])('refuses to start %s without a secret or public key', (_, roles) => {
      expect(() => new NotificationsSettings({}, roles)).toThrow(/jwt\.secret or jwt\.publicKey/);
    });

    it('starts a worker or a producer without any jwt options', () => {
      expect(new NotificationsSettings({}).jwt).toBeUndefined();
    });
  });
});
