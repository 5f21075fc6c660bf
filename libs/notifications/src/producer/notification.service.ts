import { Inject, Injectable } from '@nestjs/common';
import {
  ContractLimits,
  IDEMPOTENT_JOB_ID_PREFIX,
  NOTIFY_BATCH_JOB_NAME,
  NOTIFY_JOB_NAME,
  type NotificationInput,
  type NotifyJobData,
  type PublishResult,
} from '@rtnotify/protocol';
import type { Job, Queue } from 'bullmq';
import { createHash, randomUUID } from 'node:crypto';
import { validateNotification } from '../dto/notify-job.validation.js';
import { IdempotencyKeyReusedError } from '../errors/idempotency-key-reused.error.js';
import { InvalidNotificationError } from '../errors/invalid-notification.error.js';
import { NotificationsUnavailableError } from '../errors/notifications-unavailable.error.js';
import { ScheduledNotificationFiredError } from '../errors/scheduled-notification-fired.error.js';
import { ScheduledNotificationNotFoundError } from '../errors/scheduled-notification-not-found.error.js';
import { NOTIFICATIONS_QUEUE } from '../notifications.constants.js';
import { NotificationsSettings } from '../notifications.settings.js';
import { NotificationsRedis } from '../storage/notifications-redis.js';
import { ScheduleStore } from '../storage/schedule.store.js';
import type { FieldError } from '../utils/validation.util.js';
import { isWellFormedId, WELL_FORMED_ID_RULE } from '../utils/well-formed-id.util.js';
import { withTimeout } from '../utils/with-timeout.util.js';

/** Fields a caller may give as a `Date`; the job carries them as ISO 8601. */
const DATE_FIELDS = new Set(['expiresAt', 'deliverAt']);

/** A valid `Date` as ISO 8601 (what the job contract takes); anything else as it is. */
function isoOf(value: unknown): unknown {
  return value instanceof Date && Number.isFinite(value.getTime()) ? value.toISOString() : value;
}

/** JSON with every object's keys sorted: two requests that differ only in key order compare equal. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}

/** Enqueues under way at once; calls made meanwhile wait and go out together in the next batch. */
const MAX_CONCURRENT_ENQUEUES = 4;

interface PendingNotification {
  data: Record<string, unknown>;
  resolve(value: EnqueuedNotification): void;
  reject(error: Error): void;
}

/** What `notify` resolves with: `{jobId}`, the BullMQ job that carries the notification. */
export type EnqueuedNotification = PublishResult;

/** What makes a request that its sender may send again one job, however often it comes. */
export interface IdempotencyOptions {
  /**
   * The sender's key for this request (HTTP `Idempotency-Key`): 1–255 characters of `A-Z a-z 0-9`
   * and `-_.:~+/=`, optionally in double quotes (the IETF draft's structured-field string).
   */
  key?: string;
  /**
   * Whose keys they are (an API key, a tenant): the same key in two scopes is two jobs. Only a hash
   * of it is kept, so it may be a secret.
   */
  scope?: string;
}

const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9\-_.:~+/=]{1,255}$/;

const IDEMPOTENCY_KEY_ERROR: FieldError = {
  field: 'Idempotency-Key',
  messages: [
    'Idempotency-Key must be 1–255 characters of A-Z, a-z, 0-9 and -_.:~+/=, optionally in double quotes',
  ],
};

/** The key without the quotes of a structured-field string; null when it is malformed. */
function parseIdempotencyKey(key: string): string | null {
  const unquoted =
    key.length >= 2 && key.startsWith('"') && key.endsWith('"') ? key.slice(1, -1) : key;
  return IDEMPOTENCY_KEY_PATTERN.test(unquoted) ? unquoted : null;
}

/** What is wrong with an id argument (user id, dedupe key) of `cancel`. */
function idErrors(field: string, value: unknown, maxLength: number): FieldError[] {
  const ok =
    typeof value === 'string' &&
    value.length >= 1 &&
    value.length <= maxLength &&
    isWellFormedId(value);
  const message = `${field} must be a string of 1-${maxLength} characters, ${WELL_FORMED_ID_RULE}`;
  return ok ? [] : [{ field, messages: [message] }];
}

/** A job id no other request can have: a hash of what identifies the request. */
function idempotentJobId(parts: unknown[]): string {
  const digest = createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
  return `${IDEMPOTENT_JOB_ID_PREFIX}${digest}`;
}

/**
 * The producer API for other Nest modules: validates a notification by the job contract and enqueues
 * it. A returned promise resolves once the job is stored in Redis; from then on it is not lost.
 */
@Injectable()
export class NotificationService {
  constructor(
    @Inject(NOTIFICATIONS_QUEUE) private readonly queue: Queue,
    private readonly settings: NotificationsSettings,
    private readonly redis: NotificationsRedis,
    private readonly scheduled: ScheduleStore,
  ) {}

  /**
   * Notifies one user.
   * @throws InvalidNotificationError when the notification breaks the job contract
   */
  notify(userId: string, notification: NotificationInput): Promise<EnqueuedNotification> {
    return this.enqueue({ ...notification, userId });
  }

  /**
   * Notifies each of 1–1000 users once.
   * @throws InvalidNotificationError when the notification breaks the job contract
   */
  notifyMany(userIds: string[], notification: NotificationInput): Promise<EnqueuedNotification> {
    return this.enqueue({ ...notification, userIds });
  }

  /**
   * Validates job data by the contract and enqueues it. Calls made while an enqueue is under way are
   * coalesced into one `notify-batch` job (group commit): one Redis round trip for many notifications
   * under load, none added at low load. Each call resolves once its own notification is in Redis. A
   * scheduled one (`deliverAt`) goes out as a delayed `notify` job of its own.
   * @throws InvalidNotificationError when the data breaks the job contract
   * @throws NotificationsUnavailableError at once while Redis is unreachable, or when the enqueue
   * takes longer than `enqueueTimeoutMs`
   */
  enqueue(
    data: NotifyJobData | (NotificationInput & Pick<NotifyJobData, 'userId' | 'userIds'>),
  ): Promise<EnqueuedNotification> {
    const clean = this.validated(data);
    if (clean instanceof InvalidNotificationError) return Promise.reject(clean);
    // A scheduled one is a delayed job of its own (a `notify-batch` item cannot be scheduled).
    if (clean.deliverAt !== undefined) return this.schedule(clean, randomUUID());
    return new Promise((resolve, reject) => {
      this.waiting.push({ data: clean, resolve, reject });
      this.flushSoon();
    });
  }

  /**
   * Enqueues a request that its sender may send again (HTTP publish retried after a timeout): with
   * an idempotency key, or else a `dedupeKey`, its job id is derived from that key, the scope and (for
   * a `dedupeKey`) the recipients, so every repeat is answered with the first job's id and adds
   * nothing (BullMQ ignores an add with the id of an existing job). The job goes out on its own, not
   * in a batch. Without either key this is `enqueue`.
   *
   * The first request's data wins: a repeat with other data under the same `dedupeKey` adds nothing;
   * under the same idempotency key it is refused (`IdempotencyKeyReusedError`) while the first job is
   * still kept (`removeOnComplete`), and adds nothing after that.
   * @throws InvalidNotificationError when the data breaks the job contract, or the key is malformed
   * @throws IdempotencyKeyReusedError when the key's first request had other data
   * @throws NotificationsUnavailableError as `enqueue`
   */
  async enqueueIdempotent(
    data: NotifyJobData,
    options: IdempotencyOptions = {},
  ): Promise<EnqueuedNotification> {
    const key = options.key === undefined ? undefined : parseIdempotencyKey(options.key);
    const clean = this.validated(data);
    if (key === null || clean instanceof InvalidNotificationError) {
      const keyErrors = key === null ? [IDEMPOTENCY_KEY_ERROR] : [];
      const dataErrors = clean instanceof InvalidNotificationError ? clean.errors : [];
      return Promise.reject(new InvalidNotificationError([...keyErrors, ...dataErrors]));
    }
    const scope = options.scope ?? '';
    const { dedupeKey, userId, userIds } = clean as Pick<
      NotifyJobData,
      'dedupeKey' | 'userId' | 'userIds'
    >;
    let jobId: string;
    if (key !== undefined) jobId = idempotentJobId(['key', scope, key]);
    else if (dedupeKey !== undefined) {
      const recipients = [...new Set(userIds ?? [userId as string])].sort();
      jobId = idempotentJobId(['dedupeKey', scope, dedupeKey, recipients]);
    } else return this.enqueue(data);
    if (clean.deliverAt !== undefined) {
      // Refused before anything is recorded for the other request's dedupe key.
      if (key !== undefined) await this.refuseOtherData(jobId, clean);
      const scheduled = await this.schedule(clean, jobId);
      if (key !== undefined) await this.refuseOtherData(jobId, clean);
      return scheduled;
    }
    const job = await this.add(NOTIFY_JOB_NAME, clean, jobId);
    if (key !== undefined) await this.refuseOtherData(jobId, clean);
    return { jobId: job.id ?? jobId };
  }

  /**
   * Cancels the notification scheduled (`deliverAt`) for `userId` under `dedupeKey`: it will not be
   * delivered to that user; once this resolves, that is certain, also while a worker is picking the
   * job up. A job for that user alone is removed from the queue; one for several users still
   * delivers to the others.
   * @throws InvalidNotificationError when `userId` or `dedupeKey` is malformed
   * @throws ScheduledNotificationNotFoundError when nothing is scheduled for the user under the key
   * @throws ScheduledNotificationFiredError when it was already delivered (the key is in the user's
   * history) or is being stored right now
   * @throws NotificationsUnavailableError as `enqueue`
   */
  async cancel(userId: string, dedupeKey: string): Promise<{ cancelled: true }> {
    const errors = [
      ...idErrors('userId', userId, ContractLimits.userIdMaxLength),
      ...idErrors('dedupeKey', dedupeKey, ContractLimits.dedupeKeyMaxLength),
    ];
    if (errors.length > 0) throw new InvalidNotificationError(errors);
    const timeoutMs = this.settings.enqueueTimeoutMs;
    await this.redis.whenAvailable(timeoutMs);
    const found = await withTimeout(
      this.scheduled.cancel(userId, dedupeKey),
      timeoutMs,
      () => new NotificationsUnavailableError(),
    );
    if (found.outcome === 'none') throw new ScheduledNotificationNotFoundError();
    if (found.outcome === 'fired') throw new ScheduledNotificationFiredError();
    // Tidying only: the cancel holds whether or not the job leaves the queue now.
    await this.removeCancelledJob(userId, dedupeKey, found.jobId).catch(() => undefined);
    return { cancelled: true };
  }

  /**
   * Removes a cancelled job that delivers to this user alone and waits in `delayed`; then its cancel
   * marker goes too. A job that is active (locked) cannot be removed: it finds the marker and stores
   * nothing. Nor can one not yet added (its producer records before it adds): the marker stays.
   */
  private async removeCancelledJob(userId: string, dedupeKey: string, jobId: string) {
    const job = await this.queue.getJob(jobId);
    const data = job?.data as NotifyJobData | undefined;
    const recipients = new Set(data?.userIds ?? [data?.userId]);
    if (!job || recipients.size !== 1 || !recipients.has(userId)) return;
    if (!(await job.isDelayed())) return;
    if ((await this.queue.remove(jobId)) === 1) {
      await this.scheduled.forgetCancelled(userId, dedupeKey, jobId);
    }
  }

  /**
   * Adds a scheduled notification as a delayed job. With a `dedupeKey`, each recipient's key is
   * recorded first (so the job is cancellable from the moment it exists), and undone when the add
   * surely failed.
   */
  private async schedule(
    data: Record<string, unknown>,
    jobId: string,
  ): Promise<EnqueuedNotification> {
    const { dedupeKey, deliverAt, userId, userIds } = data as unknown as NotifyJobData;
    const recipients = [...new Set(userIds ?? [userId as string])];
    const timeoutMs = this.settings.enqueueTimeoutMs;
    if (dedupeKey !== undefined) {
      await this.redis.whenAvailable(timeoutMs);
      await withTimeout(
        this.scheduled.record(recipients, dedupeKey, jobId),
        timeoutMs,
        () => new NotificationsUnavailableError(true),
      );
    }
    const delayMs = Math.max(0, Date.parse(deliverAt as string) - Date.now());
    try {
      const job = await this.add(NOTIFY_JOB_NAME, data, jobId, delayMs);
      return { jobId: job.id ?? jobId };
    } catch (error) {
      const mayBeStored = error instanceof NotificationsUnavailableError && error.mayBeStored;
      if (dedupeKey !== undefined && !mayBeStored) {
        await this.scheduled.unrecord(recipients, dedupeKey, jobId).catch(() => undefined);
      }
      throw error;
    }
  }

  /** BullMQ keeps the first job under an id that is added again: it must carry the same data. */
  private async refuseOtherData(jobId: string, data: Record<string, unknown>): Promise<void> {
    const reading = this.queue.getJob(jobId);
    const first = await withTimeout(
      reading,
      this.settings.enqueueTimeoutMs,
      () => new NotificationsUnavailableError(true),
    );
    if (first && canonicalJson(first.data) !== canonicalJson(data)) {
      throw new IdempotencyKeyReusedError(jobId);
    }
  }

  /** The data without undefined fields when it follows the contract, else the error saying why. */
  private validated(
    data: NotifyJobData | (NotificationInput & Pick<NotifyJobData, 'userId' | 'userIds'>),
  ): Record<string, unknown> | InvalidNotificationError {
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      const root = [{ field: '(root)', messages: ['notification must be a JSON object'] }];
      return new InvalidNotificationError(root);
    }
    const clean = Object.fromEntries(
      Object.entries(data)
        .filter(([, value]) => value !== undefined)
        .map(([key, value]) => [key, DATE_FIELDS.has(key) ? isoOf(value) : value]),
    );
    const result = validateNotification(clean);
    return result.ok ? clean : new InvalidNotificationError(result.errors);
  }

  private readonly waiting: PendingNotification[] = [];
  private inFlight = 0;
  private flushScheduled = false;

  private flushSoon(): void {
    if (this.flushScheduled || this.inFlight >= MAX_CONCURRENT_ENQUEUES) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    const batch = this.takeBatch();
    if (batch.length === 0) return;
    this.inFlight += 1;
    try {
      // Every job gets an id of its own: an add that the Redis client re-sends after a lost reply
      // (reconnecting) then adds nothing.
      const job =
        batch.length === 1
          ? await this.add(NOTIFY_JOB_NAME, batch[0].data, randomUUID())
          : await this.add(
              NOTIFY_BATCH_JOB_NAME,
              { items: batch.map((pending) => pending.data) },
              randomUUID(),
            );
      for (const pending of batch) pending.resolve({ jobId: job.id ?? '' });
    } catch (error) {
      for (const pending of batch) pending.reject(error as Error);
    } finally {
      this.inFlight -= 1;
      if (this.waiting.length > 0) this.flushSoon();
    }
  }

  /** The next waiting notifications that fit one batch job (items and recipients). */
  private takeBatch(): PendingNotification[] {
    let count = 0;
    let recipients = 0;
    for (const pending of this.waiting) {
      const users = Array.isArray(pending.data.userIds) ? pending.data.userIds.length : 1;
      if (count === ContractLimits.maxBatchItems) break;
      if (count > 0 && recipients + users > ContractLimits.maxBatchRecipients) break;
      count += 1;
      recipients += users;
    }
    return this.waiting.splice(0, count);
  }

  private async add(name: string, data: object, jobId: string, delayMs = 0): Promise<Job> {
    const timeoutMs = this.settings.enqueueTimeoutMs;
    await this.redis.whenAvailable(timeoutMs);
    const options = {
      ...this.settings.jobOptions,
      jobId,
      ...(delayMs > 0 ? { delay: delayMs } : {}),
    };
    const adding = this.queue.add(name, data, options);
    return withTimeout(adding, timeoutMs, () => new NotificationsUnavailableError(true));
  }
}
