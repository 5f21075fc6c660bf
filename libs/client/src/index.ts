export { connect, NotificationsClient } from './notifications-client.js';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export type {
  CategoryCounts,
  ClientErrorEvent,
  ClientNotification,
  ConnectionState,
  ConnectOptions,
  InboxStatus,
  MarkAs,
  MarkedEvent,
  MarkSelection,
  NotificationCounts,
  NotificationEvent,
  NotificationsClientEvents,
  ReadyEvent,
  RemovedEvent,
  StateEvent,
  TokenSource,
  UnreadEvent,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js';
export type { Listener } from './typed-emitter.js';
