// The public API of @rtnotify/nestjs: only what a host application uses.
export { NotificationsModule } from './notifications.module.js';
export { NotificationsWsAdapter } from './gateway/notifications-ws.adapter.js';
export type {
  JwtVerificationOptions,
  NotificationsHttpOptions,
  NotificationsModuleExtras,
  NotificationsFallbackOptions,
  NotificationsModuleOptions,
  NotificationsWorkerOptions,
} from './interfaces/notifications-options.interface.js';

export {
  NotificationService,
  type EnqueuedNotification,
  type IdempotencyOptions,
} from './producer/notification.service.js';
export { InboxService } from './inbox/inbox.service.js';
export { PreferencesService } from './preferences/preferences.service.js';
export type { InboxQuery, MarkResult } from './storage/notification.store.js';
export { ConnectionRegistry, type RegisteredConnection } from './gateway/connection.registry.js';
export { TokenVerifier, type VerifiedIdentity } from './auth/token.verifier.js';
export {
  NotificationTokenIssuer,
  type IssuedToken,
  type IssueTokenOptions,
} from './auth/token.issuer.js';
export { NotificationsMetrics } from './notifications.metrics.js';
export { NotificationsHealth } from './notifications.health.js';
export { NOTIFICATIONS_METRICS_REGISTRY } from './notifications.constants.js';
export { NOTIFICATIONS_DEFAULTS } from './notifications.defaults.js';

export { NotificationsUserGuard } from './auth/user-auth.guard.js';
export { NotificationsApiKeyGuard } from './auth/api-key.guard.js';
export { NotificationsUserId } from './auth/current-user.decorator.js';
export { bearerCredential, type RequestWithHeaders } from './auth/bearer.js';
export { NotificationsExceptionFilter } from './http/notifications-exception.filter.js';
export { StrictValidationPipe } from './http/strict-validation.pipe.js';

export {
  IdempotencyKeyReusedError,
  InvalidNotificationError,
  InvalidPreferencesError,
  InvalidTokenError,
  NotificationsUnavailableError,
} from './errors/index.js';
export type { FieldError } from './utils/validation.util.js';

// The job contract and the shapes the API above takes and returns, from @rtnotify/protocol.
export {
  DEFAULT_QUEUE_NAME,
  FALLBACK_CHECK_JOB_NAME,
  FALLBACK_JOB_NAME,
  IDEMPOTENT_JOB_ID_PREFIX,
  NOTIFY_BATCH_JOB_NAME,
  NOTIFY_JOB_NAME,
  type CategoryCounts,
  type CategoryPreference,
  type FallbackJobData,
  type InboxPage,
  type InboxStatus,
  type MarkAs,
  type MarkEventData,
  type Notification,
  type NotificationCounts,
  type NotificationInput,
  type NotificationLimits,
  type NotificationPreferences,
  type NotificationPreferencesPatch,
  type NotifyBatchJobData,
  type NotifyJobData,
  type NotifyJobResult,
  type ReadEventData,
} from '@rtnotify/protocol';
