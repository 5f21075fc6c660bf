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

/**
 * Browsers always send `Origin`; other clients may not, and the token is what authenticates them.
 * With no allow-list, only the page's own origin (same host as the request) may connect.
 */
export function originAllowed(request: IncomingMessage, allowed: string[] | '*'): boolean {
  const origin = request.headers.origin;
  if (origin === undefined || allowed === '*') return true;
  if (allowed.length > 0) return allowed.includes(origin);
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}
