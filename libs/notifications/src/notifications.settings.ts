import type {
  JwtVerificationOptions,
  NotificationLimits,
  NotificationsModuleOptions,
} from './interfaces/notifications-options.interface.js';
import type { JobsOptions } from 'bullmq';
import { DEFAULT_KEY_PREFIX } from './notifications.constants.js';

export const DEFAULT_LIMITS: NotificationLimits = {
  maxFrameBytes: 64 * 1024,
  maxSocketsPerUser: 10,
  maxMessagesPerMinute: 100,
  pingIntervalMs: 25_000,
  pingTimeoutMs: 10_000,
  maxBufferedBytes: 1024 * 1024,
  tokenExpiryGraceMs: 5000,
};

export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** The module options with every default applied; injectable by class. */
export class NotificationsSettings {
  readonly jwt: JwtVerificationOptions;
  readonly allowedOrigins: string[] | '*';
  readonly keyPrefix: string;
  readonly historyLimit: number;
  readonly historyMaxAgeSeconds: number;
  readonly workerConcurrency: number;
  readonly limits: NotificationLimits;
  readonly jobOptions: JobsOptions;
  readonly enqueueTimeoutMs: number;
  readonly expirySweepIntervalMs: number;

  constructor(options: NotificationsModuleOptions) {
    if (!options.jwt?.secret && !options.jwt?.publicKey) {
      throw new Error('NotificationsModule: jwt.secret or jwt.publicKey is required');
    }
    this.jwt = options.jwt;
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
