import { DEFAULT_LIMITS, type NotificationLimits } from '@rtnotify/protocol';
import type { JobsOptions } from 'bullmq';
import type {
  JwtVerificationOptions,
  NotificationsModuleOptions,
} from './interfaces/notifications-options.interface.js';
import { DEFAULT_KEY_PREFIX } from './notifications.constants.js';

export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** What the instance does, from the static options: a role that verifies tokens needs `jwt`. */
export interface NotificationsRoles {
  gateway: boolean;
  inbox: boolean;
}

/** The module options with every default applied; injectable by class. */
export class NotificationsSettings {
  /** Undefined on an instance that verifies no tokens (worker or producer only). */
  readonly jwt: JwtVerificationOptions | undefined;
  readonly apiKeys: string[];
  readonly allowedOrigins: string[] | '*';
  readonly keyPrefix: string;
  readonly historyLimit: number;
  readonly historyMaxAgeSeconds: number;
  readonly workerConcurrency: number;
  readonly limits: NotificationLimits;
  readonly jobOptions: JobsOptions;
  readonly enqueueTimeoutMs: number;
  readonly expirySweepIntervalMs: number;

  constructor(
    options: NotificationsModuleOptions,
    roles: NotificationsRoles = { gateway: false, inbox: false },
  ) {
    const hasKey = Boolean(options.jwt?.secret || options.jwt?.publicKey);
    if (!hasKey && (roles.gateway || roles.inbox)) {
      throw new Error(
        'NotificationsModule: jwt.secret or jwt.publicKey is required for the gateway and the ' +
          'HTTP inbox (an instance with gateway: false and no http.inbox needs none)',
      );
    }
    this.jwt = hasKey ? options.jwt : undefined;
    this.apiKeys = options.apiKeys ?? [];
    this.allowedOrigins = options.allowedOrigins ?? [];
    this.keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
    this.historyLimit = options.historyLimit ?? 1000;
    this.historyMaxAgeSeconds = options.historyMaxAgeSeconds ?? 0;
    this.workerConcurrency = options.workerConcurrency ?? 8;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.jobOptions = { ...DEFAULT_JOB_OPTIONS, ...options.jobOptions };
    this.enqueueTimeoutMs = options.enqueueTimeoutMs ?? 5000;
    this.expirySweepIntervalMs = options.expirySweepIntervalMs ?? 1000;
  }
}
