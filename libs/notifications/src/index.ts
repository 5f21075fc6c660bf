export { NotificationsModule } from './notifications.module.js';
export { NotificationsWsAdapter } from './gateway/notifications-ws.adapter.js';
export { NOTIFICATIONS_MODULE_OPTIONS } from './notifications.module-definition.js';
export type {
  JwtVerificationOptions,
  NotificationLimits,
  NotificationsModuleExtras,
  NotificationsModuleOptions,
  NotificationsWorkerOptions,
} from './interfaces/notifications-options.interface.js';
export type {
  NotificationInput,
  NotifyJobData,
  ReadSelection,
  StoredNotification,
} from './interfaces/notification.interface.js';
export {
  INBOX_STATUSES,
  MARK_AS,
  type CategoryCounts,
  type InboxNotification,
  type InboxPageData,
  type InboxStatus,
  type MarkAs,
  type MarkedEventData,
  type MarkSelection,
  type NotificationCounts,
  type NotificationEventData,
  type ReadyEventData,
  type RemovedEventData,
  type RemovedReason,
} from './interfaces/protocol-v1_1.js';
export { NotificationService, type EnqueuedNotification } from './notification.service.js';
export {
  NotificationStore,
  type InboxPage,
  type InboxQuery,
  type MarkResult,
} from './notification.store.js';
export { ConnectionRegistry } from './connection.registry.js';
export { InboxService } from './inbox.service.js';
export { MarkFrameDto, markSelectionOf, ReadFrameDto } from './dto/client-frames.dto.js';
export { ExpirySweeper } from './expiry.sweeper.js';
export { TokenVerifier, type VerifiedIdentity } from './token.verifier.js';
export { NotificationsSettings } from './notifications.settings.js';
export { NotificationsMetrics } from './notifications.metrics.js';
export { NotifyJobDto } from './dto/notify-job.dto.js';
export {
  InvalidNotificationError,
  InvalidTokenError,
  NotificationsUnavailableError,
} from './errors/index.js';
export {
  CloseCode,
  ContractLimits,
  DEFAULT_QUEUE_NAME,
  NOTIFICATIONS_METRICS_REGISTRY,
  NOTIFY_JOB_NAME,
  WS_PATH,
} from './notifications.constants.js';
export {
  validatePlain,
  describeFieldErrors,
  inheritedKeys,
  unknownPropertyMessage,
  type FieldError,
} from './utils/validation.util.js';
