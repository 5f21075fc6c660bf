import type { MarkAs, NotificationCounts, RemovedReason } from './inbox.js';
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
  /** Protocol 1.1: unread and unseen, in total and per category. */
  counts: NotificationCounts;
}

/** `notification`: a new notification, or a replayed one (sent before `ready`). */
export interface NotificationEventData<P extends object = Record<string, unknown>> {
  notification: Notification<P>;
  /** The user's unread count once this notification was stored. */
  unread: number;
  /** Protocol 1.1: the counts once this notification was stored. */
  counts: NotificationCounts;
}

/** `unread`: the count changed for another reason than a new notification (read in another tab). */
export interface UnreadEventData {
  unread: number;
}

/**
 * `marked` (protocol 1.1), to every socket of the user: the ids whose state changed, or `all` with the
 * filter that was applied, and the counts after it. Apply `as` to those items.
 */
export type MarkedEventData =
  | { as: MarkAs; ids: string[]; counts: NotificationCounts }
  | { as: MarkAs; all: true; category?: string; onlyRead?: boolean; counts: NotificationCounts };

/** `removed` (protocol 1.1): notifications left the history (expired, or replaced by a collapse). */
export interface RemovedEventData {
  ids: string[];
  reason: RemovedReason;
  counts: NotificationCounts;
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
  marked: MarkedEventData;
  removed: RemovedEventData;
  error: ErrorEventData;
  pong: PongEventData;
}

/** `read`: mark some (1–1000 ids) or all of the user's notifications read. */
export type ReadEventData = { ids: string[] } | { all: true };

/**
 * `mark` (protocol 1.1), also the body of `POST /v1/me/notifications/mark`: set or clear a state of
 * some (1–1000 ids) or all of the user's notifications (for `unarchived`, all the archived ones),
 * optionally only those of one `category`, or only the read ones (`onlyRead`: "archive all read").
 */
export type MarkEventData =
  { as: MarkAs; ids: string[] } | { as: MarkAs; all: true; category?: string; onlyRead?: boolean };

/** `ping`: optionally with a client timestamp that `pong` echoes. */
export interface PingEventData {
  ts?: number;
}

/** Every client → server event and its data. */
export interface ClientEvents {
  read: ReadEventData;
  /** Protocol 1.1: set or clear a state. */
  mark: MarkEventData;
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
  Marked: 'marked',
  Removed: 'removed',
  Error: 'error',
  Pong: 'pong',
} as const satisfies Record<string, keyof ServerEvents>;

/** The names of the client → server events. */
export const ClientEvent = {
  Read: 'read',
  Mark: 'mark',
  Ping: 'ping',
} as const satisfies Record<string, keyof ClientEvents>;
