import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { JwtVerificationOptions } from './interfaces/notifications-options.interface.js';
import { NotificationsSettings } from './notifications.settings.js';
import { NotificationTokenIssuer } from './token.issuer.js';
import { TokenVerifier } from './token.verifier.js';

const SECRET = 'unit-test-secret-that-is-long-enough-for-hs256';

function setup(jwt?: JwtVerificationOptions) {
  const settings = new NotificationsSettings({ jwt });
  return { sut: new NotificationTokenIssuer(settings), verifier: new TokenVerifier(settings) };
}

describe(NotificationTokenIssuer.name, () => {
  it('issues a token the verifier accepts for that user, 15 minutes by default', async () => {
    const { sut, verifier } = setup({ secret: SECRET });
    const before = Date.now();

    const issued = await sut.issueToken('ada');

    expect(issued.expiresIn).toBe(900);
    const identity = await verifier.verify(issued.token);
    expect(identity.userId).toBe('ada');
    expect(identity.expiresAt - before).toBeGreaterThan(899_000);
    expect(identity.expiresAt - before).toBeLessThanOrEqual(901_000);
  });

  it('signs with the configured algorithm, issuer and audience, and the given lifetime', async () => {
    const jwt = { secret: SECRET, algorithms: ['HS384'], issuer: 'https://a', audience: 'n' };
    const { sut, verifier } = setup(jwt);

    const { token, expiresIn } = await sut.issueToken('grace', { expiresInSeconds: 60 });

    expect(expiresIn).toBe(60);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS384', typ: 'JWT' });
    expect(decodeJwt(token)).toMatchObject({ sub: 'grace', iss: 'https://a', aud: 'n' });
    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: 'grace' });
  });

  it.each([
    ['an empty user id', '', {}],
    ['a user id of 129 characters', 'x'.repeat(129), {}],
    ['a user id that is not a string', 42 as unknown as string, {}],
    ['a lifetime of 0', 'ada', { expiresInSeconds: 0 }],
    ['a fractional lifetime', 'ada', { expiresInSeconds: 1.5 }],
    ['a lifetime that is not a number', 'ada', { expiresInSeconds: '60' as unknown as number }],
  ])('refuses %s', async (_, userId, options) => {
    await expect(setup({ secret: SECRET }).sut.issueToken(userId, options)).rejects.toThrow(
      RangeError,
    );
  });

  it('accepts a user id of 128 characters', async () => {
    await expect(setup({ secret: SECRET }).sut.issueToken('x'.repeat(128))).resolves.toBeDefined();
  });

  it.each([
    ['no jwt options', undefined],
    [
      'a public key only',
      {
        publicKey: generateKeyPairSync('ec', { namedCurve: 'P-256' })
          .publicKey.export({ type: 'spki', format: 'pem' })
          .toString(),
        algorithms: ['ES256'],
      },
    ],
  ])('says it needs jwt.secret with %s', async (_, jwt) => {
    await expect(setup(jwt).sut.issueToken('ada')).rejects.toThrow(/jwt\.secret/);
  });
});
