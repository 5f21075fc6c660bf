export { NotificationsModule } from './notifications.module.js';
export { NotificationsWsAdapter } from './gateway/notifications-ws.adapter.js';
export { NOTIFICATIONS_MODULE_OPTIONS } from './notifications.module-definition.js';
export type {
  JwtVerificationOptions,
  NotificationsModuleExtras,
  NotificationsModuleOptions,
  NotificationsWorkerOptions,
} from './interfaces/notifications-options.interface.js';
export { NotificationService, type EnqueuedNotification } from './notification.service.js';
export { NotificationStore } from './notification.store.js';
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
export { NOTIFICATIONS_METRICS_REGISTRY } from './notifications.constants.js';
export {
  CloseCode,
  ContractLimits,
  DEFAULT_QUEUE_NAME,
  NOTIFY_JOB_NAME,
  type InboxPage,
  type NotificationInput,
  type NotificationLimits,
  type NotifyJobData,
} from '@rtnotify/protocol';
export {
  validatePlain,
  describeFieldErrors,
  inheritedKeys,
  unknownPropertyMessage,
  type FieldError,
} from './utils/validation.util.js';
