import { BEARER_PROTOCOL, SINCE_QUERY_PARAM, TOKEN_QUERY_PARAM } from '@rtnotify/protocol';
import type { IncomingMessage } from 'node:http';

function headerList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

function query(request: IncomingMessage): URLSearchParams {
  return new URL(request.url ?? '/', 'ws://localhost').searchParams;
}

/** The token from the `bearer` subprotocol pair, else from the `token` query parameter. */
export function tokenOf(request: IncomingMessage): string | undefined {
  const protocols = headerList(request.headers['sec-websocket-protocol']);
  const bearer = protocols.indexOf(BEARER_PROTOCOL);
  if (bearer >= 0 && protocols[bearer + 1]) return protocols[bearer + 1];
  return query(request).get(TOKEN_QUERY_PARAM) || undefined;
}

/** The `since` query parameter: the last notification id the client saw. */
export function sinceOf(request: IncomingMessage): string | undefined {
  return query(request).get(SINCE_QUERY_PARAM) || undefined;
}

/** A `Host` header: a name or an IPv4 or bracketed IPv6 address, and an optional port. */
const HOST = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/**
 * The scheme the client used: `X-Forwarded-Proto` from a proxy that terminates TLS, else whether
 * this connection is TLS. A browser cannot set that header on a WebSocket, so trusting it lets no
 * page pass for another origin.
 */
function schemeOf(request: IncomingMessage): 'http' | 'https' {
  const forwarded = request.headers['x-forwarded-proto'];
  const proto = (Array.isArray(forwarded) ? forwarded[0] : forwarded)
    ?.split(',')[0]
    ?.trim()
    .toLowerCase();
  if (proto === 'https' || proto === 'wss') return 'https';
  if (proto === 'http' || proto === 'ws') return 'http';
  return (request.socket as { encrypted?: boolean } | undefined)?.encrypted ? 'https' : 'http';
}

/**
 * Browsers always send `Origin`; other clients may not, and the token is what authenticates them.
 * With no allow-list, only the page's own origin may connect: the same scheme, host and port as
 * the request (`Host`, and the scheme from `schemeOf`).
 */
export function originAllowed(request: IncomingMessage, allowed: string[] | '*'): boolean {
  const origin = request.headers.origin;
  if (origin === undefined || allowed === '*') return true;
  if (allowed.length > 0) return allowed.includes(origin);
  const host = request.headers.host;
  if (!host || !HOST.test(host)) return false;
  try {
    return new URL(origin).origin === new URL(`${schemeOf(request)}://${host}`).origin;
  } catch {
    return false;
  }
}
