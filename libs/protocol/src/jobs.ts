import type { Notification } from './notification.js';

/** The queue producers add notification jobs to, unless the server is configured otherwise. */
export const DEFAULT_QUEUE_NAME = 'notifications';
/** The job name of one notification: data `NotifyJobData`. */
export const NOTIFY_JOB_NAME = 'notify';
/** The job name of the batch form: data `NotifyBatchJobData`, stored in one round trip. */
export const NOTIFY_BATCH_JOB_NAME = 'notify-batch';
/**
 * Job ids derived from an idempotency key start with this: such a job is stored once per id (not per
 * id and enqueue time), also when it is added again after BullMQ removed it.
 */
export const IDEMPOTENT_JOB_ID_PREFIX = 'idem-';

/** What a producer asks for: everything but the recipient. */
export interface NotificationInput {
  /** `[a-z0-9._-]`, 1–64 characters, e.g. `comment.created`. */
  type: string;
  /** Any JSON object, at most 16 KiB serialized and nested at most 32 levels. */
  payload?: Record<string, unknown>;
  /**
   * At most 128 characters: the same key for the same user is stored and delivered once, for as long
   * as the notification is in the user's history.
   */
  dedupeKey?: string;
  /** Protocol 1.1: `[a-z0-9._-]`, 1–64 characters, e.g. `billing`: the inbox counts and filters by it. */
  category?: string;
  /**
   * Protocol 1.1: at most 128 characters: replaces the user's unread, unarchived notification with the
   * same key, which it then counts (`collapsedCount`) instead of adding to the counts.
   */
  collapseKey?: string;
  /**
   * Protocol 1.1: when it leaves the inbox by itself; later than when it is enqueued. ISO 8601 with a
   * zone (`2030-01-31T12:00:00Z`); `NotificationService` also takes a `Date`.
   */
  expiresAt?: string | Date;
  /** Delivery policy: ignores the user's preferences (in-app and fallback) for this notification. */
  critical?: boolean;
  /**
   * Delivery policy: seconds after which, still unread, the notification produces a `fallback` job
   * on the host's fallback queue (the module's `fallback.afterSeconds` by default). An integer
   * 0–2,592,000 (30 days); 0: no fallback for this one.
   */
  fallbackAfterSeconds?: number;
}

/** Data of a `notify` job: exactly one of `userId` (1–128 characters) or `userIds` (1–1000 of them). */
export interface NotifyJobData extends NotificationInput {
  userId?: string;
  userIds?: string[];
  /** ISO 8601 with a zone, e.g. `2030-01-31T12:00:00Z` (a job's data is JSON). */
  expiresAt?: string;
}

/** Data of a `notify-batch` job: 1–1000 items, at most 10,000 recipients in all. */
export interface NotifyBatchJobData {
  items: NotifyJobData[];
}

/** The return value of a `notify` or `notify-batch` job. */
export interface NotifyJobResult {
  /** Notification ids, in the order of the job's items and their distinct users. */
  ids: string[];
  /** How many were new (the rest were duplicates of a dedupe key or of an earlier attempt). */
  stored: number;
  /** Protocol 1.1: how many were not stored because their `expiresAt` passed while the job waited. */
  expired: number;
  /** Delivery policy: how many were not stored because the user muted their category in-app. */
  suppressed: number;
}

/**
 * Delivery policy: the job name of the check the worker schedules on its own queue for a
 * notification that may need a fallback (data `{userId, id}`). Added by the worker only.
 */
export const FALLBACK_CHECK_JOB_NAME = 'fallback-check';
/** Delivery policy: the job name on the host's fallback queue; data `FallbackJobData`. */
export const FALLBACK_JOB_NAME = 'fallback';

/** Data of a `fallback` job: the user, and the notification as the inbox lists it. */
export interface FallbackJobData {
  userId: string;
  notification: Notification;
}
