export { connect, NotificationsClient } from './notifications-client.js';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export type {
  ClientErrorEvent,
  ClientNotification,
  ConnectionState,
  ConnectOptions,
  NotificationEvent,
  NotificationsClientEvents,
  ReadyEvent,
  StateEvent,
  TokenSource,
  UnreadEvent,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js';
export type { Listener } from './typed-emitter.js';
