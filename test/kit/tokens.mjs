import { SignJWT } from 'jose';

/** The JWT_SECRET the tests give the service. */
export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256!!';

/** A token for `sub`, issued now, valid for `expiresIn` (1 h), signed with `secret` (HS256). */
export async function signToken(sub, options = {}) {
  return new SignJWT({})
    .setProtectedHeader({ alg: options.alg ?? 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '1h')
    .sign(new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET));
}

/** A token of exactly `claims` (no `iat`, no `exp` unless given), signed HS256 with `secret`. */
export async function tokenWith(claims, secret = TEST_JWT_SECRET) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(secret));
}

/** An unsigned token (`alg: none`), which must always be refused. */
export function unsignedToken(sub) {
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const exp = Math.floor(Date.now() / 1000) + 3600;
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub, exp })}.`;
}
