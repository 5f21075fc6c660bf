import { Processor, WorkerHost } from '@nestjs/bullmq';
import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { UnrecoverableError, type Job } from 'bullmq';
import type { NotificationsWorkerOptions } from './interfaces/notifications-options.interface.js';
import { NotifyBatchJobDto } from './dto/notify-job.dto.js';
import { validateNotification } from './dto/notify-job.validation.js';
import type { NotifyJobData } from './interfaces/notification.interface.js';
import { NotificationStore, type AppendRequest } from './notification.store.js';
import {
  ContractLimits,
  NOTIFY_BATCH_JOB_NAME,
  NOTIFY_JOB_NAME,
} from './notifications.constants.js';
import { NotificationsMetrics } from './notifications.metrics.js';
import { NotificationsSettings } from './notifications.settings.js';
import { describeFieldErrors, validatePlain, type FieldError } from './utils/validation.util.js';

export interface NotifyJobResult {
  /** Notification ids, in the order of the job's items and their distinct users. */
  ids: string[];
  /** How many were new (the rest were duplicates of a dedupe key or of an earlier attempt). */
  stored: number;
  /** How many were not stored because their `expiresAt` passed while the job waited. */
  expired: number;
}

/**
 * Consumes `notify` and `notify-batch` jobs: validates them by the job contract, then stores, counts
 * and publishes each notification for every user it names, the whole job in one round trip. A job
 * that breaks the contract fails at once and is not retried.
 */
@Injectable()
export class NotificationProcessor
  extends WorkerHost
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger(NotificationProcessor.name);

  constructor(
    private readonly store: NotificationStore,
    private readonly settings: NotificationsSettings,
    private readonly metrics: NotificationsMetrics,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.settings.workerConcurrency;
  }

  async beforeApplicationShutdown(): Promise<void> {
    // Let in-flight jobs finish while the store's connection is still open.
    await this.worker.close();
  }

  async process(job: Job<unknown, NotifyJobResult>): Promise<NotifyJobResult> {
    try {
      const result = await this.handle(job);
      this.metrics.stored.inc(result.stored);
      return result;
    } catch (error) {
      this.metrics.failed.inc({
        reason: error instanceof UnrecoverableError ? 'invalid' : 'error',
      });
      throw error;
    }
  }

  private async handle(job: Job<unknown, NotifyJobResult>): Promise<NotifyJobResult> {
    const items = this.validate(job);
    const requests: AppendRequest[] = [];
    const now = Date.now();
    let expired = 0;
    items.forEach((item, index) => {
      const userIds = [...new Set(item.userIds ?? [item.userId as string])];
      const expiresAt =
        item.expiresAt === undefined ? undefined : new Date(item.expiresAt).toISOString();
      if (expiresAt !== undefined && Date.parse(expiresAt) <= now) {
        expired += userIds.length;
        return;
      }
      const payloadJson = JSON.stringify(item.payload ?? {});
      // Without a dedupe key, the job itself is the key: a retried attempt stores nothing twice.
      const dedupeKey =
        item.dedupeKey === undefined
          ? `j:${job.id}:${job.timestamp}${items.length > 1 ? `:${index}` : ''}`
          : `k:${item.dedupeKey}`;
      for (const userId of userIds) {
        const request: AppendRequest = {
          userId,
          type: item.type,
          payloadJson,
          dedupeKey,
          enqueuedAt: job.timestamp,
        };
        if (item.category !== undefined) request.category = item.category;
        if (item.collapseKey !== undefined) request.collapseKey = item.collapseKey;
        if (expiresAt !== undefined) request.expiresAt = expiresAt;
        requests.push(request);
      }
    });
    // One pipeline for the whole job: every user's store is one script, all in one round trip.
    const results = await this.store.append(requests);
    return {
      ids: results.map((r) => r.id),
      stored: results.filter((r) => r.stored).length,
      expired,
    };
  }

  /** The job's notifications by the contract: one for `notify`, many for `notify-batch`. */
  private validate(job: Job): NotifyJobData[] {
    const reject = (errors: FieldError[]): never => {
      // Field names and job ids come from producers: the log says how many, the job's failedReason
      // says which.
      this.logger.warn(`a ${job.name} job was rejected: ${errors.length} invalid field(s)`);
      throw new UnrecoverableError(`invalid notification job: ${describeFieldErrors(errors)}`);
    };
    // `expiresAt` must have been in the future when the producer enqueued the job.
    if (job.name === NOTIFY_JOB_NAME) {
      const result = validateNotification(job.data, job.timestamp);
      return result.ok ? [result.value] : reject(result.errors);
    }
    if (job.name !== NOTIFY_BATCH_JOB_NAME) {
      throw new UnrecoverableError(
        `unknown job name "${job.name}": expected "${NOTIFY_JOB_NAME}" or "${NOTIFY_BATCH_JOB_NAME}"`,
      );
    }
    const batch = validatePlain(NotifyBatchJobDto, job.data);
    if (!batch.ok) return reject(batch.errors);
    const items: NotifyJobData[] = [];
    const errors: FieldError[] = [];
    batch.value.items.forEach((item, index) => {
      const result = validateNotification(item, job.timestamp);
      if (result.ok) items.push(result.value);
      else errors.push(...result.errors.map((e) => ({ ...e, field: `items.${index}.${e.field}` })));
    });
    if (errors.length > 0) return reject(errors);
    const recipients = items.reduce((sum, item) => sum + (item.userIds?.length ?? 1), 0);
    if (recipients > ContractLimits.maxBatchRecipients) {
      return reject([
        {
          field: 'items',
          messages: [
            `items must name at most ${ContractLimits.maxBatchRecipients} recipients in all`,
          ],
        },
      ]);
    }
    return items;
  }
}

/**
 * The processor bound to a queue (`@Processor` needs the name at declaration time), with the
 * worker's static options.
 */
export function processorForQueue(
  queueName: string,
  workerOptions: NotificationsWorkerOptions = {},
): typeof NotificationProcessor {
  @Processor(queueName, workerOptions)
  class QueueNotificationProcessor extends NotificationProcessor {}
  return QueueNotificationProcessor;
}
