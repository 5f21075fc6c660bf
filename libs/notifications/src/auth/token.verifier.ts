import { Injectable } from '@nestjs/common';
import { ContractLimits } from '@rtnotify/protocol';
import { createPublicKey, webcrypto, type KeyObject } from 'node:crypto';
import { errors as joseErrors, jwtVerify, type CryptoKey, type JWTHeaderParameters } from 'jose';
import { InvalidTokenError } from '../errors/invalid-token.error.js';
import { NotificationsSettings } from '../notifications.settings.js';
import { isWellFormedId, WELL_FORMED_ID_RULE } from '../utils/well-formed-id.util.js';

/** Who a verified token names. */
export interface VerifiedIdentity {
  /** The token's `sub`. */
  userId: string;
  /** Epoch milliseconds at which the token expires. */
  expiresAt: number;
}

const HMAC = /^HS(256|384|512)$/;

/**
 * The secret as a WebCrypto key per HMAC algorithm, imported once. Handed a raw secret, jose imports
 * it again on every verify, which cost about as much as the verification itself (a third of the
 * server's CPU per connect, measured with `npm run bench -- --scenarios idle`).
 */
class HmacKeys {
  private readonly imported = new Map<string, Promise<CryptoKey>>();

  constructor(private readonly secret: Uint8Array) {}

  /** For jose's key resolver: called only for an algorithm the allowlist let through. */
  readonly forHeader = ({ alg }: JWTHeaderParameters): Promise<CryptoKey> => {
    let key = this.imported.get(alg);
    if (!key) {
      const hash = `SHA-${alg.slice(2)}`;
      key = webcrypto.subtle.importKey('raw', this.secret, { name: 'HMAC', hash }, false, [
        'verify',
      ]);
      this.imported.set(alg, key);
    }
    return key;
  };
}

/**
 * Verifies a user's JWT against an explicit algorithm list (`jwt` options of the module); `sub` is
 * the user id. The gateway and the HTTP inbox use it; a host may too, for its own routes.
 */
@Injectable()
export class TokenVerifier {
  private readonly key: KeyObject | HmacKeys['forHeader'] | undefined;
  private readonly algorithms: string[] = [];

  constructor(private readonly settings: NotificationsSettings) {
    // An instance without jwt options verifies no tokens (a worker, say): verify() says so.
    if (!settings.jwt) return;
    const { secret, publicKey, algorithms } = settings.jwt;
    if (publicKey) {
      this.key = createPublicKey(publicKey);
      this.algorithms = algorithms ?? ['RS256'];
      if (this.algorithms.some((alg) => HMAC.test(alg))) {
        throw new Error('jwt.algorithms: HMAC algorithms need jwt.secret, not a public key');
      }
    } else {
      this.key = new HmacKeys(new TextEncoder().encode(secret)).forHeader;
      this.algorithms = algorithms ?? ['HS256'];
      if (!this.algorithms.every((alg) => HMAC.test(alg))) {
        throw new Error('jwt.algorithms: with jwt.secret only HS256, HS384 or HS512 apply');
      }
    }
  }

  /**
   * The identity a token proves.
   * @throws InvalidTokenError (with a `reason` safe to show) when the token is missing parts,
   * malformed, expired, wrongly signed, signed with an algorithm not allowed, or names no user
   * @throws Error when the module has no `jwt` options
   */
  async verify(token: string): Promise<VerifiedIdentity> {
    const { key, settings } = this;
    if (!key || !settings.jwt) {
      throw new Error('NotificationsModule: set jwt.secret or jwt.publicKey to verify tokens');
    }
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: this.algorithms,
        issuer: settings.jwt.issuer,
        audience: settings.jwt.audience,
        clockTolerance: settings.jwt.clockToleranceSeconds ?? 5,
        requiredClaims: ['sub', 'exp'],
      });
      const sub = payload.sub;
      if (
        typeof sub !== 'string' ||
        sub.length === 0 ||
        sub.length > ContractLimits.userIdMaxLength
      ) {
        throw new InvalidTokenError(`token sub must be 1-${ContractLimits.userIdMaxLength} chars`);
      }
      if (!isWellFormedId(sub)) {
        throw new InvalidTokenError(`token sub must be ${WELL_FORMED_ID_RULE}`);
      }
      const expiresAt = (payload.exp ?? 0) * 1000;
      const { maxLifetimeSeconds, clockToleranceSeconds = 5 } = settings.jwt;
      if (
        maxLifetimeSeconds &&
        expiresAt - Date.now() > (maxLifetimeSeconds + clockToleranceSeconds) * 1000
      ) {
        throw new InvalidTokenError(
          `token lifetime too long: exp may be at most ${maxLifetimeSeconds} s ahead`,
        );
      }
      return { userId: sub, expiresAt };
    } catch (error) {
      throw TokenVerifier.explain(error);
    }
  }

  private static explain(error: unknown): InvalidTokenError {
    if (error instanceof InvalidTokenError) return error;
    if (error instanceof joseErrors.JWTExpired) return new InvalidTokenError('token expired');
    if (error instanceof joseErrors.JOSEAlgNotAllowed) {
      return new InvalidTokenError('token algorithm not allowed');
    }
    if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
      return new InvalidTokenError('token signature invalid');
    }
    if (error instanceof joseErrors.JWTClaimValidationFailed) {
      return new InvalidTokenError(`token claim ${error.claim} invalid`);
    }
    return new InvalidTokenError('token invalid');
  }
}
