import { Processor, WorkerHost } from '@nestjs/bullmq';
import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { UnrecoverableError, type Job } from 'bullmq';
import type { NotificationsWorkerOptions } from './interfaces/notifications-options.interface.js';
import { NotifyJobDto } from './dto/notify-job.dto.js';
import { NotificationStore, type AppendRequest } from './notification.store.js';
import { NOTIFY_JOB_NAME } from './notifications.constants.js';
import { NotificationsMetrics } from './notifications.metrics.js';
import { NotificationsSettings } from './notifications.settings.js';
import { describeFieldErrors, validatePlain } from './utils/validation.util.js';

export interface NotifyJobResult {
  /** Notification ids, in the order of the job's users. */
  ids: string[];
  /** How many were new (the rest were duplicates of a dedupe key or of an earlier attempt). */
  stored: number;
}

/**
 * Consumes `notify` jobs: validates each by the job contract, then stores, counts and publishes it
 * for every user it names. A job that breaks the contract fails at once and is not retried.
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
    if (job.name !== NOTIFY_JOB_NAME) {
      throw new UnrecoverableError(`unknown job name "${job.name}": expected "${NOTIFY_JOB_NAME}"`);
    }
    const result = validatePlain(NotifyJobDto, job.data);
    if (!result.ok) {
      this.logger.warn(`job ${job.id} rejected: ${result.errors.map((e) => e.field).join(', ')}`);
      throw new UnrecoverableError(
        `invalid notification job: ${describeFieldErrors(result.errors)}`,
      );
    }
    const data = result.value;
    const userIds = data.userIds ?? [data.userId as string];
    const payloadJson = JSON.stringify(data.payload ?? {});
    // Without a dedupe key, the job itself is the key: a retried attempt stores nothing twice.
    const baseKey =
      data.dedupeKey === undefined ? `j:${job.id}:${job.timestamp}` : `k:${data.dedupeKey}`;
    const requests: AppendRequest[] = [...new Set(userIds)].map((userId) => ({
      userId,
      type: data.type,
      payloadJson,
      dedupeKey: baseKey,
      enqueuedAt: job.timestamp,
    }));
    const results = await this.store.append(requests);
    return { ids: results.map((r) => r.id), stored: results.filter((r) => r.stored).length };
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
