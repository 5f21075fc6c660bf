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
  NotificationService,
  type EnqueuedNotification,
  type IdempotencyOptions,
} from './notification.service.js';
export { NotificationStore, type InboxPage } from './notification.store.js';
export { ConnectionRegistry } from './connection.registry.js';
export { InboxService } from './inbox.service.js';
export { ReadFrameDto } from './dto/client-frames.dto.js';
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
  IDEMPOTENT_JOB_ID_PREFIX,
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
