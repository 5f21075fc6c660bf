import type { Notification } from './notification.js';

/**
 * `ready`: the socket is registered and live; any replay is done.
 */
export interface ReadyEventData {
  userId: string;
  /** The user's unread count. */
  unread: number;
  /** How many notifications were replayed (sent before `ready`) on this connection. */
  replayed: number;
  /**
   * The server cannot prove that the client missed nothing (`since` older than the retained history,
   * unknown, or from before a reset of it): nothing was replayed; refetch the inbox over HTTP.
   */
  truncated: boolean;
  /** The position to resume from when the client has seen no notification since. */
  cursor: string;
}

/** `notification`: a new notification, or a replayed one (sent before `ready`). */
export interface NotificationEventData<P extends object = Record<string, unknown>> {
  notification: Notification<P>;
  /** The user's unread count once this notification was stored. */
  unread: number;
}

/** `unread`: the count changed for another reason than a new notification (read in another tab). */
export interface UnreadEventData {
  unread: number;
}

/** Why the server rejected a client frame. */
export type ServerErrorCode =
  'bad_frame' | 'unknown_event' | 'invalid_data' | 'rate_limited' | 'internal';

/** `error`: a client frame was rejected; the connection stays open, except after `rate_limited`. */
export interface ErrorEventData {
  code: ServerErrorCode;
  /** Says why in plain words; never a stack trace. */
  message: string;
}

/** `pong`: the answer to `ping`, echoing its `ts`. */
export interface PongEventData {
  ts?: number;
}

/** Every server → client event and its data. */
export interface ServerEvents {
  ready: ReadyEventData;
  notification: NotificationEventData;
  unread: UnreadEventData;
  error: ErrorEventData;
  pong: PongEventData;
}

/** `read`: mark some (1–1000 ids) or all of the user's notifications read. */
export type ReadEventData = { ids: string[] } | { all: true };

/** `ping`: optionally with a client timestamp that `pong` echoes. */
export interface PingEventData {
  ts?: number;
}

/** Every client → server event and its data. */
export interface ClientEvents {
  read: ReadEventData;
  ping: PingEventData;
}

/** One JSON text frame, `{"event", "data"}`, of the events in `M`. */
export type Frame<M, E extends keyof M = keyof M> = {
  [K in E]: { event: K; data: M[K] };
}[E];

/** A frame the server sends. */
export type ServerFrame<E extends keyof ServerEvents = keyof ServerEvents> = Frame<ServerEvents, E>;

/** A frame a client sends. */
export type ClientFrame<E extends keyof ClientEvents = keyof ClientEvents> = Frame<ClientEvents, E>;

/** The names of the server → client events. */
export const ServerEvent = {
  Ready: 'ready',
  Notification: 'notification',
  Unread: 'unread',
  Error: 'error',
  Pong: 'pong',
} as const satisfies Record<string, keyof ServerEvents>;

/** The names of the client → server events. */
export const ClientEvent = {
  Read: 'read',
  Ping: 'ping',
} as const satisfies Record<string, keyof ClientEvents>;
