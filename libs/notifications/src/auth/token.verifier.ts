import { Injectable } from '@nestjs/common';
import { ContractLimits } from '@rtnotify/protocol';
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import jsonwebtoken from 'jsonwebtoken';
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

/** How far `exp` and `nbf` may be off when `jwt.clockToleranceSeconds` is not set. */
const DEFAULT_CLOCK_TOLERANCE_SECONDS = 5;

/** jsonwebtoken's refusals (by the start of their message) as the reasons this verifier gives. */
const HMAC_REFUSALS: [prefix: string, reason: string][] = [
  ['invalid signature', 'token signature invalid'],
  ['invalid algorithm', 'token algorithm not allowed'],
  // An unsigned token (alg "none").
  ['jwt signature is required', 'token algorithm not allowed'],
  ['jwt issuer invalid', 'token claim iss invalid'],
  ['jwt audience invalid', 'token claim aud invalid'],
  ['invalid exp value', 'token claim exp invalid'],
  ['invalid nbf value', 'token claim nbf invalid'],
];

/**
 * Verifies a user's JWT against an explicit algorithm list (`jwt` options of the module); `sub` is
 * the user id. The gateway and the HTTP inbox use it; a host may too, for its own routes.
 *
 * HMAC tokens (a shared secret) are verified with jsonwebtoken, synchronously on node:crypto: about
 * 10 µs each, against 45-60 µs for jose, whose WebCrypto verification is an asynchronous job (a
 * sixth of the gateway's CPU per connect, measured with `npm run bench -- --scenarios idle`).
 * Public-key tokens (RS, PS, ES and EdDSA, which jsonwebtoken lacks) are verified with jose.
 */
@Injectable()
export class TokenVerifier {
  private readonly key: KeyObject | undefined;
  private readonly hmac: boolean = false;
  private readonly algorithms: string[] = [];
  private readonly clockToleranceSeconds: number = DEFAULT_CLOCK_TOLERANCE_SECONDS;

  constructor(private readonly settings: NotificationsSettings) {
    // An instance without jwt options verifies no tokens (a worker, say): verify() says so.
    if (!settings.jwt) return;
    const { secret, publicKey, algorithms } = settings.jwt;
    this.clockToleranceSeconds = settings.jwt.clockToleranceSeconds ?? this.clockToleranceSeconds;
    if (publicKey) {
      this.key = createPublicKey(publicKey);
      this.algorithms = algorithms ?? ['RS256'];
      if (this.algorithms.some((alg) => HMAC.test(alg))) {
        throw new Error('jwt.algorithms: HMAC algorithms need jwt.secret, not a public key');
      }
    } else {
      this.key = createSecretKey(Buffer.from(secret ?? '', 'utf8'));
      this.hmac = true;
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
      const payload = this.hmac ? this.verifyHmac(token, key) : await this.verifyPublic(token, key);
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
      const { maxLifetimeSeconds } = settings.jwt;
      if (
        maxLifetimeSeconds &&
        expiresAt - Date.now() > (maxLifetimeSeconds + this.clockToleranceSeconds) * 1000
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

  /** The claims of an HMAC token, verified (jsonwebtoken; see the class comment). */
  private verifyHmac(token: string, key: KeyObject): JWTPayload {
    const jwt = this.settings.jwt;
    const { header, payload } = jsonwebtoken.verify(token, key, {
      algorithms: this.algorithms as jsonwebtoken.Algorithm[],
      issuer: jwt?.issuer,
      audience: jwt?.audience,
      clockTolerance: this.clockToleranceSeconds,
      complete: true,
    });
    // A critical header extension must be understood (RFC 7515, 4.1.11): none is, here.
    if ('crit' in header) throw new InvalidTokenError('token invalid');
    if (typeof payload === 'string') throw new InvalidTokenError('token invalid');
    // jsonwebtoken checks exp only when present: as jose's requiredClaims did, both must be.
    for (const claim of ['sub', 'exp'] as const) {
      if (payload[claim] === undefined) throw new InvalidTokenError(`token claim ${claim} invalid`);
    }
    return payload;
  }

  /** The claims of a public-key token, verified (jose). */
  private async verifyPublic(token: string, key: KeyObject): Promise<JWTPayload> {
    const jwt = this.settings.jwt;
    const { payload } = await jwtVerify(token, key, {
      algorithms: this.algorithms,
      issuer: jwt?.issuer,
      audience: jwt?.audience,
      clockTolerance: this.clockToleranceSeconds,
      requiredClaims: ['sub', 'exp'],
    });
    return payload;
  }

  private static explain(error: unknown): InvalidTokenError {
    if (error instanceof InvalidTokenError) return error;
    if (error instanceof jsonwebtoken.TokenExpiredError) {
      return new InvalidTokenError('token expired');
    }
    if (error instanceof jsonwebtoken.NotBeforeError) {
      return new InvalidTokenError('token claim nbf invalid');
    }
    if (error instanceof jsonwebtoken.JsonWebTokenError) {
      const refusal = HMAC_REFUSALS.find(([prefix]) => error.message.startsWith(prefix));
      return new InvalidTokenError(refusal?.[1] ?? 'token invalid');
    }
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
