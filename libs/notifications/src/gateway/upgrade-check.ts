import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { InvalidTokenError } from '../errors/invalid-token.error.js';
import { CloseCode } from '@rtnotify/protocol';
import type { TokenVerifier, VerifiedIdentity } from '../token.verifier.js';
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

/** Identities proven before the upgrade, for the gateway to pick up with the connection. */
const verifiedUpgrades = new WeakMap<IncomingMessage, VerifiedIdentity>();

/** The identity `upgradeCheck` proved for this upgrade request, if it did. */
export function verifiedIdentityOf(request: IncomingMessage): VerifiedIdentity | undefined {
  return verifiedUpgrades.get(request);
}

/**
 * Checks the origin and the token before the WebSocket handshake completes: a refused upgrade is
 * answered `403` (origin) or `401` (token: missing, invalid, expired…) with the reason as plain
 * text, and never gets a `101`, so an unauthenticated client holds no socket and no buffers.
 */
export function upgradeCheck(
  verifier: TokenVerifier,
  allowedOrigins: string[] | '*',
  refused: (closeCode: number) => void,
): VerifyClient {
  const refuse = (done: Parameters<VerifyClient>[1], status: 401 | 403, reason: string) => {
    refused(UPGRADE_REFUSAL_CODES[status]);
    const headers: OutgoingHttpHeaders = { 'Content-Type': 'text/plain; charset=utf-8' };
    if (status === 401) headers['WWW-Authenticate'] = 'Bearer';
    done(false, status, reason, headers);
  };
  return ({ req }, done) => {
    if (!originAllowed(req, allowedOrigins)) {
      refuse(done, 403, 'origin not allowed');
      return;
    }
    const token = tokenOf(req);
    if (!token) {
      refuse(done, 401, 'missing token');
      return;
    }
    verifier.verify(token).then(
      (identity) => {
        verifiedUpgrades.set(req, identity);
        done(true);
      },
      (error: unknown) =>
        refuse(done, 401, error instanceof InvalidTokenError ? error.reason : 'token invalid'),
    );
  };
}
