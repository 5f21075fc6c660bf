import type {
  MarkedEventData,
  Notification,
  NotificationCounts,
  NotificationEventData,
  ReadyEventData,
  RemovedEventData,
  UnreadEventData,
} from '@rtnotify/protocol';
import type { BackoffOptions } from './backoff.js';
import type { FetchLike } from './http-api.js';

/** A notification as the server sends it (`Notification` of `@rtnotify/protocol`). */
export type ClientNotification<P extends object = Record<string, unknown>> = Notification<P>;

/**
 * The server's `ready`: the socket is live and any replay is done. `counts` is absent from a server
 * that speaks only protocol v1.
 */
export type ReadyEvent = Omit<ReadyEventData, 'counts'> & { counts?: NotificationCounts };

/** A new notification, once per id. */
export interface NotificationEvent<P extends object = Record<string, unknown>> extends Omit<
  NotificationEventData<P>,
  'counts'
> {
  /** True when it was replayed on reconnect (it was stored while this client was away). */
  replayed: boolean;
  /** The counts once this notification was stored (protocol 1.1; absent from a v1 server). */
  counts?: NotificationCounts;
}

/**
 * States changed (here or in another tab): apply `as` to the notifications with these `ids`, or to
 * `all` of them (the inbox; for `unarchived` the archived ones), narrowed by `category` or to the
 * read ones (`onlyRead`).
 */
export type MarkedEvent = MarkedEventData;

/** Notifications left the history: `expired`, or `collapsed` into a newer one. */
export type RemovedEvent = RemovedEventData;

/** The unread count changed for another reason than a new notification (read in another tab, say). */
export type UnreadEvent = UnreadEventData;

/**
 * `connecting`: a token is fetched, the socket opens, missed notifications are replayed.
 * `open`: the server said `ready`; notifications arrive live.
 * `closed`: no socket; another attempt follows after `reconnectInMs` unless `final`.
 */
export type ConnectionState = 'connecting' | 'open' | 'closed';

export interface StateEvent {
  state: ConnectionState;
  /** Close code of the socket that just closed (`closed` only). */
  code?: number;
  /** Close reason of the socket that just closed (`closed` only). */
  reason?: string;
  /** When the next attempt is due, in milliseconds (`closed` only, unless `final`). */
  reconnectInMs?: number;
  /** The client stopped for good: `close()` was called, or the server refused it (4401, 4403). */
  final?: boolean;
}

/**
 * Why something failed. From the server (the connection stays open): `bad_frame`, `invalid_data`,
 * `unknown_event`, `rate_limited`, `internal`. From the client: `unauthorized` (4401 even with a fresh
 * token: final), `origin_not_allowed` (4403: final), `token_unavailable` (the token function failed:
 * retried), `connect_failed` (the socket could not be created: retried).
 */
export interface ClientErrorEvent {
  code: string;
  message: string;
  /** The client stopped and will not reconnect. */
  fatal: boolean;
}

/** Every event a `NotificationsClient` emits, with its data. */
export interface NotificationsClientEvents {
  notification: NotificationEvent;
  unread: UnreadEvent;
  marked: MarkedEvent;
  removed: RemovedEvent;
  /** The counts changed (after `ready`, each `notification`, `marked` and `removed`). */
  counts: NotificationCounts;
  ready: ReadyEvent;
  /** Emitted after `ready` when `ready.truncated`: the page must refetch the inbox over HTTP. */
  truncated: ReadyEvent;
  state: StateEvent;
  error: ClientErrorEvent;
}

/** A token, or a function asked for one before every connection attempt (so it can be refreshed). */
export type TokenSource = string | (() => string | Promise<string>);

/** What the client needs of a WebSocket: the browser's own, or `ws`'s in Node. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: any) => void) | null;
  onmessage: ((event: any) => void) | null;
  onclose: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
) => WebSocketLike;

export interface ConnectOptions {
  /**
   * The gateway's endpoint, e.g. `wss://example.com/ws`. `http(s)` URLs become `ws(s)`; in a page, a
   * relative URL such as `/ws` is resolved against the page's address.
   */
  url: string;
  /** The user's JWT, or a function that returns one (asked again before every reconnect). */
  token: TokenSource;
  /**
   * Send the token as the `token` query parameter instead of the `["bearer", token]` subprotocol
   * pair. URLs end up in logs: keep this off unless a proxy drops subprotocols.
   * @default false
   */
  tokenInUrl?: boolean;
  /**
   * The WebSocket class. From Node (before 22), pass `ws`'s: `import WebSocket from 'ws'`.
   * @default globalThis.WebSocket
   */
  WebSocket?: WebSocketConstructor;
  /**
   * Reconnect waits: full jitter, doubling from `baseMs` up to `capMs`.
   * @default { baseMs: 1000, capMs: 30000 }
   */
  backoff?: Partial<BackoffOptions>;
  /** The last notification id this user's page has seen (from the inbox, say): resume after it. */
  since?: string;
  /**
   * Where the server's HTTP routes are (`<apiUrl>/v1/me/…`: preferences): absolute, or relative to
   * the page. With a global prefix on the server, include it (`https://example.com/api`).
   * @default the origin of `url`, in http(s)
   */
  apiUrl?: string;
  /**
   * The `fetch` of the HTTP routes.
   * @default globalThis.fetch
   */
  fetch?: FetchLike;
}
