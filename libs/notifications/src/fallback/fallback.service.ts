import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import {
  ContractLimits,
  FALLBACK_CHECK_JOB_NAME,
  FALLBACK_JOB_NAME,
  parseNotificationId,
  type FallbackJobData,
} from '@rtnotify/protocol';
import { DelayedError, Queue, UnrecoverableError, type Job } from 'bullmq';
import { NOTIFICATIONS_QUEUE } from '../notifications.constants.js';
import { NotificationsMetrics } from '../notifications.metrics.js';
import { NotificationsSettings } from '../notifications.settings.js';
import { NotificationStore, type AppendResult } from '../storage/notification.store.js';
import { isWellFormedId } from '../utils/well-formed-id.util.js';
import { fallbackCheckJobId, fallbackJobId } from './fallback-job-ids.js';

/** Data of a `fallback-check` job. */
export interface FallbackCheckData {
  userId: string;
  id: string;
}

/** The return value of a `fallback-check` job. */
export interface FallbackCheckResult {
  fallback: 'added' | 'none' | 'off';
}

/** How long BullMQ keeps a finished `fallback` job (and so refuses its id again): one day. */
const KEEP_FALLBACK_JOBS_SECONDS = 24 * 3600;

function checkDataOf(data: unknown): FallbackCheckData {
  const { userId, id, ...rest } = (data ?? {}) as Partial<Record<string, unknown>>;
  const valid =
    typeof userId === 'string' &&
    userId.length >= 1 &&
    userId.length <= ContractLimits.userIdMaxLength &&
    isWellFormedId(userId) &&
    typeof id === 'string' &&
    id.length <= ContractLimits.notificationIdMaxLength &&
    parseNotificationId(id) !== undefined &&
    Object.keys(rest).length === 0;
  if (!valid) throw new UnrecoverableError('invalid fallback-check job: expected {userId, id}');
  return { userId, id };
}

/**
 * Fallback jobs. After the store, the worker schedules one `fallback-check` job per notification
 * that may need a fallback, on its own queue, delayed to when the fallback is due, under an id
 * derived from the user and the notification (so a retried store schedules nothing twice). At its
 * time the check asks the store, atomically, whether the notification is still unread and its
 * fallback wanted, claiming it if so; then it adds the `fallback` job to the host's queue under an id
 * derived the same way, and settles the claim. A check that dies between the claim and the settle is
 * retried, finds the claim, and adds again: BullMQ ignores an id it already holds.
 */
@Injectable()
export class FallbackService implements OnApplicationShutdown {
  private readonly logger = new Logger(FallbackService.name);
  private hostQueue: Queue<FallbackJobData> | undefined;

  constructor(
    private readonly store: NotificationStore,
    private readonly settings: NotificationsSettings,
    private readonly metrics: NotificationsMetrics,
    @Inject(NOTIFICATIONS_QUEUE) private readonly queue: Queue,
  ) {}

  /** Schedules the checks of stored notifications whose fallback may be due (none: nothing). */
  async schedule(results: AppendResult[]): Promise<void> {
    const due = results.filter((result) => result.fallbackDueAt !== undefined);
    if (due.length === 0) return;
    const now = Date.now();
    const { attempts, backoff, removeOnComplete, removeOnFail } = this.settings.jobOptions;
    await this.queue.addBulk(
      due.map((result) => ({
        name: FALLBACK_CHECK_JOB_NAME,
        data: { userId: result.userId, id: result.id } satisfies FallbackCheckData,
        opts: {
          jobId: fallbackCheckJobId(result.userId, result.id),
          delay: Math.max(0, (result.fallbackDueAt ?? now) - now),
          attempts,
          backoff,
          removeOnComplete,
          removeOnFail,
        },
      })),
    );
  }

  /** Runs a `fallback-check` job. */
  async check(job: Job, token: string | undefined): Promise<FallbackCheckResult> {
    const { userId, id } = checkDataOf(job.data);
    const fallback = this.settings.fallback;
    if (fallback === undefined) return { fallback: 'off' };
    const claim = await this.store.claimFallback(userId, id);
    if (claim.kind === 'wait') {
      // Early (another worker's clock): back to delayed until it is due, without an attempt spent.
      if (token === undefined) throw new Error('fallback check is not due yet');
      await job.moveToDelayed(claim.dueAt, token);
      throw new DelayedError();
    }
    if (claim.kind === 'none') return { fallback: 'none' };
    const added = await this.queueOf(fallback.queue).add(
      FALLBACK_JOB_NAME,
      { userId, notification: claim.notification },
      {
        jobId: fallbackJobId(userId, id),
        attempts: this.settings.jobOptions.attempts,
        backoff: this.settings.jobOptions.backoff,
        removeOnComplete: { age: KEEP_FALLBACK_JOBS_SECONDS },
        removeOnFail: { age: KEEP_FALLBACK_JOBS_SECONDS * 7 },
      },
    );
    await this.store.settleFallback(userId, id);
    this.metrics.fallbacks.inc();
    this.logger.debug(`fallback job ${added.id ?? ''} added`);
    return { fallback: 'added' };
  }

  /** The host's queue, on the notify queue's connection and prefix. */
  private queueOf(name: string): Queue<FallbackJobData> {
    this.hostQueue ??= new Queue<FallbackJobData>(name, {
      connection: this.queue.opts.connection,
      prefix: this.queue.opts.prefix,
    });
    return this.hostQueue;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.hostQueue?.close();
  }
}
