/** The JWT_SECRET the tests give the service. */
export const TEST_JWT_SECRET: string;

/** A token for `sub`, issued now, valid for `expiresIn` (1 h), signed with `secret` (HS256). */
export function signToken(
  sub: string,
  options?: { secret?: string; expiresIn?: string | number; alg?: string },
): Promise<string>;

/** A token of exactly `claims` (no `iat`, no `exp` unless given), signed HS256 with `secret`. */
export function tokenWith(claims: Record<string, unknown>, secret?: string): Promise<string>;

/** An unsigned token (`alg: none`), which must always be refused. */
export function unsignedToken(sub: string): string;
