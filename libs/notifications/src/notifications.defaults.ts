import { DEFAULT_LIMITS, DEFAULT_QUEUE_NAME, DEFAULT_SOCKET_PATH } from '@rtnotify/protocol';
import type { JobsOptions } from 'bullmq';
import type { NotificationsModuleExtras } from './interfaces/notifications-options.interface.js';

/** Options of the jobs `NotificationService` enqueues, unless `jobOptions` says otherwise. */
export const DEFAULT_JOB_OPTIONS: Readonly<JobsOptions> = Object.freeze({
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
});

/**
 * The default of every module option that has one, written once: `NotificationsSettings` applies
 * them to the options of `forRoot` / `forRootAsync`, and an option given as `undefined` takes its
 * default too (so that a host can pass optional environment values through as they are). The
 * options' `@default` tags say the same for readers.
 */
export const NOTIFICATIONS_DEFAULTS = Object.freeze({
  apiKeys: Object.freeze([]) as readonly string[],
  allowedOrigins: Object.freeze([]) as readonly string[],
  keyPrefix: 'notif',
  historyLimit: 1000,
  historyMaxAgeSeconds: 0,
  workerConcurrency: 32,
  enqueueTimeoutMs: 5000,
  expirySweepIntervalMs: 1000,
  minReplicasAck: 0,
  replicaAckTimeoutMs: 1000,
  limits: DEFAULT_LIMITS,
  jobOptions: DEFAULT_JOB_OPTIONS,
});

/** The default of every static option (`NotificationsModuleExtras`) except `http`, off unless given. */
export const NOTIFICATIONS_EXTRAS_DEFAULTS = Object.freeze({
  isGlobal: false,
  queueName: DEFAULT_QUEUE_NAME,
  gateway: true,
  socketPath: DEFAULT_SOCKET_PATH,
  worker: true,
  workerOptions: Object.freeze({}),
}) satisfies Required<Omit<NotificationsModuleExtras, 'http'>>;
