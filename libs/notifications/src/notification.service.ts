import { Inject, Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { NotifyJobDto } from './dto/notify-job.dto.js';
import { InvalidNotificationError } from './errors/invalid-notification.error.js';
import { NotificationsUnavailableError } from './errors/notifications-unavailable.error.js';
import type { NotificationInput, NotifyJobData } from './interfaces/notification.interface.js';
import { NOTIFICATIONS_QUEUE, NOTIFY_JOB_NAME } from './notifications.constants.js';
import { NotificationsSettings } from './notifications.settings.js';
import { validatePlain } from './utils/validation.util.js';
import { withTimeout } from './utils/with-timeout.util.js';

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
   * Validates job data by the contract and enqueues it as one `notify` job.
   * @throws InvalidNotificationError when the data breaks the job contract
   * @throws NotificationsUnavailableError at once while Redis is unreachable, or when the enqueue
   * takes longer than `enqueueTimeoutMs`
   */
  async enqueue(data: NotifyJobData): Promise<EnqueuedNotification> {
    const clean = Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined));
    const result = validatePlain(NotifyJobDto, clean);
    if (!result.ok) throw new InvalidNotificationError(result.errors);
    const timeoutMs = this.settings.enqueueTimeoutMs;
    const client = await withTimeout(
      this.queue.client,
      timeoutMs,
      () => new NotificationsUnavailableError(),
    );
    if (client.status !== 'ready') throw new NotificationsUnavailableError();
    const job = await withTimeout(
      this.queue.add(NOTIFY_JOB_NAME, clean, this.settings.jobOptions),
      timeoutMs,
      () => new NotificationsUnavailableError(true),
    );
    return { jobId: job.id ?? '' };
  }
}
