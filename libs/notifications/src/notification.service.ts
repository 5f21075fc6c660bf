import { Inject, Injectable } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { validateNotification } from './dto/notify-job.validation.js';
import { InvalidNotificationError } from './errors/invalid-notification.error.js';
import { NotificationsUnavailableError } from './errors/notifications-unavailable.error.js';
import type { NotificationInput, NotifyJobData } from './interfaces/notification.interface.js';
import {
  ContractLimits,
  NOTIFICATIONS_QUEUE,
  NOTIFY_BATCH_JOB_NAME,
  NOTIFY_JOB_NAME,
} from './notifications.constants.js';
import { NotificationsSettings } from './notifications.settings.js';
import { withTimeout } from './utils/with-timeout.util.js';

/** A valid `Date` as ISO 8601 (what the job contract takes); anything else as it is. */
function isoOf(value: unknown): unknown {
  return value instanceof Date && Number.isFinite(value.getTime()) ? value.toISOString() : value;
}

/** Enqueues under way at once; calls made meanwhile wait and go out together in the next batch. */
const MAX_CONCURRENT_ENQUEUES = 4;

interface PendingNotification {
  data: Record<string, unknown>;
  resolve(value: EnqueuedNotification): void;
  reject(error: Error): void;
}

export interface EnqueuedNotification {
  /** The BullMQ job that carries it. */
  jobId: string;
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
   * under load, none added at low load. Each call resolves once its own notification is in Redis.
   * @throws InvalidNotificationError when the data breaks the job contract
   * @throws NotificationsUnavailableError at once while Redis is unreachable, or when the enqueue
   * takes longer than `enqueueTimeoutMs`
   */
  enqueue(
    data: NotifyJobData | (NotificationInput & Pick<NotifyJobData, 'userId' | 'userIds'>),
  ): Promise<EnqueuedNotification> {
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      const root = [{ field: '(root)', messages: ['notification must be a JSON object'] }];
      return Promise.reject(new InvalidNotificationError(root));
    }
    const clean = Object.fromEntries(
      Object.entries(data)
        .filter(([, value]) => value !== undefined)
        .map(([key, value]) => [key, key === 'expiresAt' ? isoOf(value) : value]),
    );
    const result = validateNotification(clean);
    if (!result.ok) return Promise.reject(new InvalidNotificationError(result.errors));
    return new Promise((resolve, reject) => {
      this.waiting.push({ data: clean, resolve, reject });
      this.flushSoon();
    });
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
      const job = await this.add(batch);
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

  private async add(batch: PendingNotification[]): Promise<Job> {
    const timeoutMs = this.settings.enqueueTimeoutMs;
    const client = await withTimeout(
      this.queue.client,
      timeoutMs,
      () => new NotificationsUnavailableError(),
    );
    if (client.status !== 'ready') throw new NotificationsUnavailableError();
    const adding =
      batch.length === 1
        ? this.queue.add(NOTIFY_JOB_NAME, batch[0].data, this.settings.jobOptions)
        : this.queue.add(
            NOTIFY_BATCH_JOB_NAME,
            { items: batch.map((pending) => pending.data) },
            this.settings.jobOptions,
          );
    return withTimeout(adding, timeoutMs, () => new NotificationsUnavailableError(true));
  }
}
