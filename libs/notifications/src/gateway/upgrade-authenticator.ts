import { Injectable } from '@nestjs/common';
import { CloseCode } from '@rtnotify/protocol';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { TokenVerifier, type VerifiedIdentity } from '../auth/token.verifier.js';
import { InvalidTokenError } from '../errors/invalid-token.error.js';
import { NotificationsMetrics } from '../notifications.metrics.js';
import { NotificationsSettings } from '../notifications.settings.js';
import { originAllowed, tokenOf } from './handshake.js';

/** ws's `verifyClient` in its asynchronous form. */
export type VerifyClient = (
  info: { origin?: string; secure: boolean; req: IncomingMessage },
  done: (ok: boolean, status?: number, message?: string, headers?: OutgoingHttpHeaders) => void,
) => void;

/**
 * The close code of wire protocol v1 that each refused upgrade stands for: 401 is 4401, 403 is
 * 4403 (the SDK treats them alike; metrics count them under the close code).
 */
export const UPGRADE_REFUSAL_CODES = {
  401: CloseCode.Unauthorized,
  403: CloseCode.OriginNotAllowed,
} as const;

/** Who the socket belongs to, or why it may not be opened (a close code and its reason). */
export type UpgradeOutcome =
  { identity: VerifiedIdentity } | { refused: { closeCode: number; reason: string } };

type Check = { identity: VerifiedIdentity } | { refused: { status: 401 | 403; reason: string } };

/**
 * Authenticates the upgrade of a socket: the origin (`allowedOrigins`) and the user's token.
 *
 * Checked before the handshake completes (`verifyClient`, which the gateway sets on the ws server):
 * a refused upgrade is answered `403` (origin) or `401` (token: missing, invalid, expired…) with the
 * reason as plain text and never gets a `101`, so an unauthenticated client holds no socket and no
 * buffers. The identity proven there is kept with the upgrade request for `authenticate`, which
 * checks again only a socket whose upgrade did not go through `verifyClient`.
 */
@Injectable()
export class UpgradeAuthenticator {
  /** Identities proven before the upgrade, by the upgrade request ws hands to the gateway. */
  private readonly verified = new WeakMap<IncomingMessage, VerifiedIdentity>();

  constructor(
    private readonly verifier: TokenVerifier,
    private readonly settings: NotificationsSettings,
    private readonly metrics: NotificationsMetrics,
  ) {}

  /** For ws's `verifyClient` option. */
  readonly verifyClient: VerifyClient = ({ req }, done) => {
    void this.check(req).then((outcome) => {
      if ('identity' in outcome) {
        this.verified.set(req, outcome.identity);
        done(true);
        return;
      }
      const { status, reason } = outcome.refused;
      this.metrics.rejected.inc({ code: String(UPGRADE_REFUSAL_CODES[status]) });
      const headers: OutgoingHttpHeaders = { 'Content-Type': 'text/plain; charset=utf-8' };
      if (status === 401) headers['WWW-Authenticate'] = 'Bearer';
      done(false, status, reason, headers);
    });
  };

  /** The user of an upgraded socket: the identity `verifyClient` proved, else checked now. */
  async authenticate(request: IncomingMessage): Promise<UpgradeOutcome> {
    const identity = this.verified.get(request);
    if (identity) return { identity };
    const outcome = await this.check(request);
    if ('identity' in outcome) return outcome;
    const { status, reason } = outcome.refused;
    return { refused: { closeCode: UPGRADE_REFUSAL_CODES[status], reason } };
  }

  private async check(request: IncomingMessage): Promise<Check> {
    if (!originAllowed(request, this.settings.allowedOrigins)) {
      return { refused: { status: 403, reason: 'origin not allowed' } };
    }
    const token = tokenOf(request);
    if (!token) return { refused: { status: 401, reason: 'missing token' } };
    try {
      return { identity: await this.verifier.verify(token) };
    } catch (error) {
      const reason = error instanceof InvalidTokenError ? error.reason : 'token invalid';
      return { refused: { status: 401, reason } };
    }
  }
}
