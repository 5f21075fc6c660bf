export { connect, NotificationsClient } from './notifications-client.js';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export { NotificationsHttpError, type FetchLike } from './http-api.js';
export type {
  ClientErrorEvent,
  ClientNotification,
  ConnectionState,
  ConnectOptions,
  MarkedEvent,
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
// The wire protocol, for code that reads close codes or frames itself.
export {
  BEARER_PROTOCOL,
  CloseCode,
  ServerEvent,
  PREFERENCES_PATH,
  type CategoryCounts,
  type CategoryPreference,
  type ErrorEventData,
  type InboxStatus,
  type MarkAs,
  type MarkedEventData,
  type MarkEventData,
  type Notification,
  type NotificationCounts,
  type NotificationEventData,
  type NotificationPreferences,
  type NotificationPreferencesPatch,
  type ReadyEventData,
  type RemovedEventData,
  type ServerErrorCode,
  type ServerEvents,
  type UnreadEventData,
} from '@rtnotify/protocol';
