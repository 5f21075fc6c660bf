import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import {
  ContractLimits,
  FALLBACK_CHECK_JOB_NAME,
  NOTIFY_BATCH_JOB_NAME,
  NOTIFY_JOB_NAME,
  type NotifyJobData,
  type NotifyJobResult,
} from '@rtnotify/protocol';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { setTimeout as delay } from 'node:timers/promises';
import type { NotificationsWorkerOptions } from '../interfaces/notifications-options.interface.js';
import { validateBatchShape, validateNotification } from '../dto/notify-job.validation.js';
import { JobRecovery } from './job-recovery.js';
import { AppendCoalescer } from './append-coalescer.js';
import { DedupeKeyReleaser } from './dedupe-key-releaser.js';
import { dedupeKeyOf, jobAttemptKeys, recipientsOf, type KeyedItem } from './job-dedupe-keys.js';
import { FallbackService, type FallbackCheckResult } from '../fallback/fallback.service.js';
import {
  NotificationStore,
  type AppendRequest,
  type AppendResult,
} from '../storage/notification.store.js';
import { NotificationsMetrics } from '../notifications.metrics.js';
import { NotificationsSettings } from '../notifications.settings.js';
import { NotificationsRedis, settleStart } from '../storage/notifications-redis.js';
import { ScheduleStore } from '../storage/schedule.store.js';
import { isTransientRedisError } from '../utils/transient-error.util.js';
import { describeFieldErrors, type FieldError } from '../utils/validation.util.js';

/** In-process retries of a store that failed because Redis was unreachable: 100 ms, doubling to 1 s. */
const STORE_RETRY_FIRST_MS = 100;
const STORE_RETRY_MAX_MS = 1000;
/**
 * How much of the job's lock the retries may use. BullMQ renews the lock while `process` runs, every
 * `lockDuration / 4` to `/ 2`, so at least half of it is left when Redis goes away.
 */
const STORE_RETRY_SHARE_OF_LOCK = 0.4;

const BATCH_DELIVER_AT_MESSAGE =
  'deliverAt is not allowed in a notify-batch item: add a scheduled notification as its own notify job';

/**
 * Consumes `notify` and `notify-batch` jobs (and the worker's own `fallback-check` jobs, see
 * FallbackService): validates them by the job contract, then stores, counts and publishes each
 * notification for every user it names, the whole job in one round trip (shared with the other jobs
 * in flight, see `append`). A job that breaks the contract fails at once and is not retried. A store
 * that fails because Redis is briefly unreachable is retried in process, and a valid job never fails
 * for that reason. Once a job has completed, the keys only its retries could need are released (see
 * `onCompleted`).
 */
@Injectable()
export class NotificationProcessor
  extends WorkerHost
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger(NotificationProcessor.name);
  private recovery: JobRecovery | undefined;
  private readonly releaser: DedupeKeyReleaser;
  /** The jobs in flight together are stored in one round trip. */
  private readonly coalescer: AppendCoalescer;

  constructor(
    private readonly scheduled: ScheduleStore,
    private readonly store: NotificationStore,
    private readonly settings: NotificationsSettings,
    private readonly metrics: NotificationsMetrics,
    private readonly redis: NotificationsRedis,
    private readonly fallback: FallbackService,
  ) {
    super();
    this.releaser = new DedupeKeyReleaser(store, this.logger, (count) =>
      this.metrics.dedupeKeysReleased.inc(count),
    );
    this.coalescer = new AppendCoalescer(store);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.worker.concurrency = this.settings.workerConcurrency;
    this.recovery = new JobRecovery(this.worker, this.redis.client, this.logger);
    this.recovery.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.recovery?.stop();
    // A worker still starting is closed by dropping its connections, whose start then rejects
    // unhandled (see NotificationsRedis.beforeApplicationShutdown): let it finish starting first.
    await settleStart(this.worker.waitUntilReady());
    // Let in-flight jobs finish while the store's connection is still open.
    await this.worker.close();
    // Then the releases their completion queued (the connection closes at onApplicationShutdown).
    await this.releaser.close();
  }

  /**
   * A completed job cannot run again: the job-attempt keys it stored under (see `jobAttemptKeys`;
   * derived from its data as `handle` derives them) are queued for release. Not on failure: a failed
   * job may still be retried, by BullMQ or by hand. The limit: a worker that lost the job's lock
   * (blocked past `lockDuration`) and runs on after another one completed the job could store it
   * again.
   */
  @OnWorkerEvent('completed')
  onCompleted(job: Job): void {
    try {
      const data = job.data as { items?: unknown } | undefined;
      const items =
        job.name === NOTIFY_JOB_NAME
          ? [data]
          : job.name === NOTIFY_BATCH_JOB_NAME
            ? data?.items
            : undefined;
      if (!Array.isArray(items)) return;
      this.releaser.add(jobAttemptKeys(job, items as KeyedItem[]));
    } catch {
      // Its data passed validation, so this is not expected; a key left behind harms nothing, and
      // an exception must not reach BullMQ's event emitter.
    }
  }

  async process(
    job: Job<unknown, NotifyJobResult | FallbackCheckResult>,
    token?: string,
  ): Promise<NotifyJobResult | FallbackCheckResult> {
    try {
      if (job.name === FALLBACK_CHECK_JOB_NAME) return await this.fallback.check(job, token);
      const result = await this.handle(job, token);
      this.metrics.stored.inc(result.stored);
      this.metrics.suppressed.inc(result.suppressed);
      return result;
    } catch (error) {
      if (!(error instanceof DelayedError)) {
        this.metrics.failed.inc({
          reason: error instanceof UnrecoverableError ? 'invalid' : 'error',
        });
      }
      throw error;
    }
  }

  private async handle(job: Job, token: string | undefined): Promise<NotifyJobResult> {
    const items = this.validate(job);
    const fallback = this.settings.fallback;
    const requests: AppendRequest[] = [];
    const now = Date.now();
    let expired = 0;
    // A scheduled job has one item (batch items cannot be scheduled): its cancelled recipients.
    const gate =
      items[0].deliverAt === undefined ? undefined : await this.gate(job, token, items[0]);
    items.forEach((item, index) => {
      const recipients = recipientsOf(item);
      const userIds = gate
        ? recipients.filter((userId) => !gate.cancelled.has(userId))
        : recipients;
      const expiresAt =
        item.expiresAt === undefined ? undefined : new Date(item.expiresAt).toISOString();
      if (expiresAt !== undefined && Date.parse(expiresAt) <= now) {
        expired += userIds.length;
        return;
      }
      const payloadJson = JSON.stringify(item.payload ?? {});
      // Without a dedupe key, the job itself is the key: a retried attempt stores nothing twice.
      const dedupeKey = dedupeKeyOf(job, item, index, items.length);
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
        if (item.critical === true) request.critical = true;
        if (fallback !== undefined && item.fallbackAfterSeconds !== 0) {
          const seconds = item.fallbackAfterSeconds ?? fallback.afterSeconds;
          if (seconds > 0) request.fallbackDelayMs = seconds * 1000;
          if (fallback.whenOffline) request.fallbackWhenOffline = true;
        }
        requests.push(request);
      }
    });
    const results = await this.append(job, token, requests);
    // Also after a retried store (the results of duplicates say when their fallback is due): the
    // checks' job ids make a second schedule add nothing. Without fallbacks none is ever due.
    if (fallback !== undefined) await this.fallback.schedule(results);
    // Best effort: a claim left behind only makes a cancel answer "fired", which it is.
    if (gate) {
      await this.scheduled.release(gate.claimed, gate.dedupeKey, job.id ?? '').catch(() => {});
    }
    const result: NotifyJobResult = { ids: [], stored: 0, expired, suppressed: 0 };
    for (const { id, stored, suppressed } of results) {
      if (suppressed) {
        result.suppressed += 1;
        continue;
      }
      result.ids.push(id);
      if (stored) result.stored += 1;
    }
    if (gate) result.cancelled = gate.cancelled.size;
    return result;
  }

  /**
   * A scheduled notification. Before its time (a producer that did not delay the job itself) the job
   * is moved to `delayed` until then, without spending an attempt, its dedupe key recorded first so
   * that it can be cancelled. At its time, each recipient's key is claimed, atomically against
   * `cancel`: the recipients it was cancelled for (or scheduled again for by another job) are left
   * out. Without a dedupe key nothing can cancel it.
   */
  private async gate(
    job: Job,
    token: string | undefined,
    item: NotifyJobData,
  ): Promise<{ dedupeKey: string; claimed: string[]; cancelled: Set<string> }> {
    const recipients = recipientsOf(item);
    const { dedupeKey = '' } = item;
    const jobId = job.id ?? '';
    const due = Date.parse(item.deliverAt as string);
    if (Date.now() < due && token !== undefined) {
      const recorded = dedupeKey
        ? await this.retryingRedis(job, token, () =>
            this.scheduled.record(recipients, dedupeKey, jobId),
          )
        : [];
      // Cancelled for everyone already (a job that comes back after a lost lock): nothing to wait for.
      if (recorded.length === 0 || recorded.some(Boolean)) {
        await job.moveToDelayed(due, token).catch(() => {
          // The lock is gone: the stalled-job check hands the job back, and it comes here again.
        });
        throw new DelayedError();
      }
    }
    if (!dedupeKey) return { dedupeKey, claimed: [], cancelled: new Set() };
    const claims = await this.retryingRedis(job, token, () =>
      this.scheduled.claim(recipients, dedupeKey, jobId),
    );
    return {
      dedupeKey,
      claimed: recipients.filter((_, i) => claims[i]),
      cancelled: new Set(recipients.filter((_, i) => !claims[i])),
    };
  }

  /**
   * One round trip for the whole job, shared with the other jobs in flight (`AppendCoalescer`, the
   * worker's group commit): every user's store is one script. While Redis is unreachable the store is
   * retried here, each job by itself, so the job is finished as soon as Redis is back; the retries
   * stay well within the job's lock (which BullMQ keeps renewing meanwhile). Past that, or when the
   * worker is closing, the job is parked in `delayed` without spending an attempt. Retrying is safe:
   * each notification is stored once per dedupe key.
   */
  private append(
    job: Job,
    token: string | undefined,
    requests: AppendRequest[],
  ): Promise<AppendResult[]> {
    return this.retryingRedis(job, token, () => this.coalescer.append(requests));
  }

  /** `action` (a Redis call that is safe to repeat), retried as `append` describes. */
  private async retryingRedis<T>(
    job: Job,
    token: string | undefined,
    action: () => Promise<T>,
  ): Promise<T> {
    const lockMs = this.worker.opts.lockDuration ?? 30_000;
    const deadline = Date.now() + lockMs * STORE_RETRY_SHARE_OF_LOCK;
    for (let wait = STORE_RETRY_FIRST_MS; ; wait = Math.min(wait * 2, STORE_RETRY_MAX_MS)) {
      try {
        return await action();
      } catch (error) {
        if (!isTransientRedisError(error) || token === undefined) throw error;
        this.metrics.storeRetries.inc();
        if (this.worker.closing || Date.now() + wait > deadline) return this.park(job, token);
        await delay(wait);
      }
    }
  }

  /** Moves the job to `delayed` (no attempt spent) and ends this attempt. */
  private async park(job: Job, token: string): Promise<never> {
    this.logger.warn(`Redis unreachable: a ${job.name} job waits in delayed for another attempt`);
    await job.moveToDelayed(Date.now() + STORE_RETRY_MAX_MS, token).catch(() => {
      // The lock is gone (Redis was down longer than it): the stalled-job check hands the job back.
    });
    throw new DelayedError();
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
        `unknown job name "${job.name}": expected "${NOTIFY_JOB_NAME}", "${NOTIFY_BATCH_JOB_NAME}" or "${FALLBACK_CHECK_JOB_NAME}"`,
      );
    }
    const batch = validateBatchShape(job.data);
    if (!batch.ok) return reject(batch.errors);
    const items: NotifyJobData[] = [];
    const errors: FieldError[] = [];
    batch.value.items.forEach((item, index) => {
      const result = validateNotification(item, job.timestamp);
      if (result.ok && result.value.deliverAt !== undefined) {
        errors.push({ field: `items.${index}.deliverAt`, messages: [BATCH_DELIVER_AT_MESSAGE] });
      } else if (result.ok) items.push(result.value);
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
