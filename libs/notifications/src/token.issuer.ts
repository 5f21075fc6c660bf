import { Injectable } from '@nestjs/common';
import { ContractLimits } from '@rtnotify/protocol';
import { SignJWT } from 'jose';
import { NotificationsSettings } from './notifications.settings.js';

/** Options of `NotificationTokenIssuer.issueToken`. */
export interface IssueTokenOptions {
  /**
   * Lifetime of the token, in seconds. Sockets stay open past it for `limits.tokenExpiryGraceMs`,
   * then close with 4401 and the client asks for a fresh token.
   * @default 900
   */
  expiresInSeconds?: number;
}

/** A signed socket token and how long it lasts. */
export interface IssuedToken {
  /** A JWT whose `sub` is the user id, for `connect({ token })` of `@rtnotify/client`. */
  token: string;
  /** Seconds until it expires. */
  expiresIn: number;
}

const DEFAULT_TTL_SECONDS = 900;

/**
 * Signs short-lived user tokens that the gateway and the HTTP inbox accept, with the module's
 * `jwt.secret` (and `jwt.issuer` / `jwt.audience` when set), for hosts that sign their users in with
 * their own sessions: a route behind the host's own authentication hands the page a token for the
 * signed-in user. Needs `jwt.secret`: with `jwt.publicKey` the module cannot sign.
 */
@Injectable()
export class NotificationTokenIssuer {
  private readonly key: Uint8Array | undefined;
  private readonly algorithm: string;

  constructor(private readonly settings: NotificationsSettings) {
    const secret = settings.jwt?.secret;
    this.key = secret && !settings.jwt?.publicKey ? new TextEncoder().encode(secret) : undefined;
    this.algorithm = settings.jwt?.algorithms?.[0] ?? 'HS256';
  }

  /**
   * A token for `userId`. Only call it for a user the host has authenticated: whoever holds the
   * token receives that user's notifications.
   * @throws RangeError when `userId` is not 1–128 characters or the lifetime is not a positive
   * whole number of seconds
   * @throws Error when the module has no `jwt.secret`
   */
  async issueToken(userId: string, options: IssueTokenOptions = {}): Promise<IssuedToken> {
    const expiresIn = options.expiresInSeconds ?? DEFAULT_TTL_SECONDS;
    const max = ContractLimits.userIdMaxLength;
    if (typeof userId !== 'string' || userId.length === 0 || userId.length > max) {
      throw new RangeError(`issueToken: userId must be a string of 1-${max} characters`);
    }
    if (!Number.isSafeInteger(expiresIn) || expiresIn <= 0) {
      throw new RangeError('issueToken: expiresInSeconds must be a positive whole number');
    }
    if (!this.key) {
      throw new Error('NotificationsModule: set jwt.secret to issue tokens');
    }
    let jwt = new SignJWT({})
      .setProtectedHeader({ alg: this.algorithm, typ: 'JWT' })
      .setSubject(userId)
      .setIssuedAt()
      .setExpirationTime(`${expiresIn}s`);
    const { issuer, audience } = this.settings.jwt ?? {};
    if (issuer) jwt = jwt.setIssuer(issuer);
    if (audience) jwt = jwt.setAudience(audience);
    return { token: await jwt.sign(this.key), expiresIn };
  }
}
