import type { NotificationLimits } from '@rtnotify/protocol';
import type { JobsOptions } from 'bullmq';
import { ContractLimits, DEFAULT_QUEUE_NAME } from '@rtnotify/protocol';
import type {
  JwtVerificationOptions,
  NotificationsFallbackOptions,
  NotificationsModuleOptions,
} from './interfaces/notifications-options.interface.js';
import { NOTIFICATIONS_DEFAULTS } from './notifications.defaults.js';
import type { ReplicaAck } from './storage/cluster-pipeline.js';

/** What the instance does, from the static options: a role that verifies tokens needs `jwt`. */
export interface NotificationsRoles {
  gateway: boolean;
  inbox: boolean;
  /** The queue of `notify` jobs (static option `queueName`); the fallback queue must be another. */
  queueName?: string;
}

/** The entries of `partial` whose value is not undefined (an undefined one keeps its default). */
function definedOnly<T extends object>(partial: T | undefined): Partial<T> {
  return Object.fromEntries(
    Object.entries(partial ?? {}).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
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
  /** Replicas that must acknowledge a job's writes (`WAIT`), and for how long it may wait. */
  readonly replicaAck: ReplicaAck;
  /** Fallback jobs: undefined when off. */
  readonly fallback: Required<NotificationsFallbackOptions> | undefined;

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
    const defaults = NOTIFICATIONS_DEFAULTS;
    this.jwt = hasKey ? options.jwt : undefined;
    this.apiKeys = options.apiKeys ?? [...defaults.apiKeys];
    this.allowedOrigins = options.allowedOrigins ?? [...defaults.allowedOrigins];
    this.keyPrefix = options.keyPrefix ?? defaults.keyPrefix;
    this.historyLimit = options.historyLimit ?? defaults.historyLimit;
    this.historyMaxAgeSeconds = options.historyMaxAgeSeconds ?? defaults.historyMaxAgeSeconds;
    this.workerConcurrency = options.workerConcurrency ?? defaults.workerConcurrency;
    this.limits = { ...defaults.limits, ...definedOnly(options.limits) };
    this.jobOptions = { ...defaults.jobOptions, ...definedOnly(options.jobOptions) };
    this.enqueueTimeoutMs = options.enqueueTimeoutMs ?? defaults.enqueueTimeoutMs;
    this.expirySweepIntervalMs = options.expirySweepIntervalMs ?? defaults.expirySweepIntervalMs;
    this.replicaAck = {
      replicas: options.minReplicasAck ?? defaults.minReplicasAck,
      timeoutMs: options.replicaAckTimeoutMs ?? defaults.replicaAckTimeoutMs,
    };
    this.fallback = fallbackSettingsOf(options.fallback, roles.queueName ?? DEFAULT_QUEUE_NAME);
  }
}

/** The fallback option checked, with its defaults (0 seconds: none after a delay). */
function fallbackSettingsOf(
  fallback: NotificationsFallbackOptions | undefined,
  queueName: string,
): Required<NotificationsFallbackOptions> | undefined {
  if (fallback === undefined) return undefined;
  const { queue, afterSeconds = 0, whenOffline = false } = fallback;
  if (typeof queue !== 'string' || queue.length === 0 || queue.includes(':')) {
    throw new Error('NotificationsModule: fallback.queue must be a queue name (without ":")');
  }
  // On the notify queue, every `fallback` job would be taken by this module's own worker and
  // failed as an unknown job name: the host's worker would never see one.
  if (queue === queueName) {
    throw new Error(
      `NotificationsModule: fallback.queue must not be the notify queue "${queueName}" (queueName)`,
    );
  }
  const max = ContractLimits.fallbackAfterMaxSeconds;
  if (!Number.isInteger(afterSeconds) || afterSeconds < 0 || afterSeconds > max) {
    throw new Error(`NotificationsModule: fallback.afterSeconds must be an integer 0-${max}`);
  }
  return { queue, afterSeconds, whenOffline: whenOffline === true };
}
