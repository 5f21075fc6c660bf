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
// The wire protocol, for code that reads close codes or frames itself.
export {
  BEARER_PROTOCOL,
  CloseCode,
  ServerEvent,
  type ErrorEventData,
  type Notification,
  type NotificationEventData,
  type ReadyEventData,
  type ServerErrorCode,
  type ServerEvents,
  type UnreadEventData,
} from '@rtnotify/protocol';
