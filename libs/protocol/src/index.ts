export { CloseCode } from './close-codes.js';
export {
  ClientEvent,
  ServerEvent,
  type ClientEvents,
  type ClientFrame,
  type ErrorEventData,
  type Frame,
  type MarkedEventData,
  type MarkEventData,
  type NotificationEventData,
  type PingEventData,
  type PongEventData,
  type ReadEventData,
  type ReadyEventData,
  type RemovedEventData,
  type ServerErrorCode,
  type ServerEvents,
  type ServerFrame,
  type UnreadEventData,
} from './events.js';
export {
  BEARER_PROTOCOL,
  DEFAULT_SOCKET_PATH,
  SINCE_QUERY_PARAM,
  TOKEN_QUERY_PARAM,
} from './handshake.js';
export type { InboxPage, PublishResult, UnreadCount } from './http.js';
export {
  INBOX_STATUSES,
  MARK_AS,
  type CategoryCounts,
  type InboxStatus,
  type MarkAs,
  type NotificationCounts,
  type RemovedReason,
} from './inbox.js';
export { isNewerNotificationId, parseNotificationId, type ParsedNotificationId } from './ids.js';
export {
  DEFAULT_QUEUE_NAME,
  FALLBACK_CHECK_JOB_NAME,
  FALLBACK_JOB_NAME,
  IDEMPOTENT_JOB_ID_PREFIX,
  NOTIFY_BATCH_JOB_NAME,
  NOTIFY_JOB_NAME,
  type NotificationInput,
  type FallbackJobData,
  type NotifyBatchJobData,
  type NotifyJobData,
  type NotifyJobResult,
} from './jobs.js';
export { ContractLimits, DEFAULT_LIMITS, type NotificationLimits } from './limits.js';
export type { Notification } from './notification.js';
export {
  MAX_PREFERENCE_CATEGORIES,
  MAX_PREFERENCE_CATEGORIES_PER_UPDATE,
  PREFERENCES_PATH,
  type CategoryPreference,
  type NotificationPreferences,
  type NotificationPreferencesPatch,
} from './preferences.js';
