import { IDEMPOTENT_JOB_ID_PREFIX, type NotifyJobData } from '@rtnotify/protocol';
import type { Job } from 'bullmq';
import type { DedupeKeyEntry } from '../storage/notification.store.js';

/*
 * The dedupe keys a notify / notify-batch job stores its notifications under. The store (the
 * processor's `handle`) and the release after the job completed both derive them here, so that they
 * cannot disagree.
 */

/** What of a job its keys depend on. */
export type JobIdentity = Pick<Job, 'id' | 'timestamp'>;

/** What of a notification its key and recipients depend on. */
export type KeyedItem = Pick<NotifyJobData, 'dedupeKey' | 'userId' | 'userIds'>;

/** A job id derived from an idempotency key: the job's key must last as long as the history. */
export function isIdempotentJob(job: JobIdentity): boolean {
  return job.id?.startsWith(IDEMPOTENT_JOB_ID_PREFIX) ?? false;
}

/**
 * The dedupe key of item `index` of a job of `count` items: the producer's (`k:<dedupeKey>`), else
 * the job's own. Without a producer key the job itself is the key, so a retried attempt stores
 * nothing twice: `j:<jobId>:<enqueue time>` (a job-attempt key, `:<index>` added in a batch of more
 * than one item), or `j:<jobId>` for an idempotent job id, which holds also when the job is added
 * again after BullMQ removed it.
 */
export function dedupeKeyOf(
  job: JobIdentity,
  item: KeyedItem,
  index: number,
  count: number,
): string {
  if (item.dedupeKey !== undefined) return `k:${item.dedupeKey}`;
  const jobKey = isIdempotentJob(job) ? `j:${job.id}` : `j:${job.id}:${job.timestamp}`;
  return count > 1 ? `${jobKey}:${index}` : jobKey;
}

/** The users an item is for, each once. */
export function recipientsOf(item: KeyedItem): string[] {
  // Most items name one user: no set to make.
  if (item.userIds === undefined) return [item.userId as string];
  return [...new Set(item.userIds)];
}

/**
 * The job-attempt keys of a job, per recipient: those only a retry of this job can need (every item
 * without a producer key, for every recipient it names). None for an idempotent job id.
 */
export function jobAttemptKeys(job: JobIdentity, items: readonly KeyedItem[]): DedupeKeyEntry[] {
  if (isIdempotentJob(job)) return [];
  const entries: DedupeKeyEntry[] = [];
  items.forEach((item, index) => {
    if (item.dedupeKey !== undefined) return;
    const dedupeKey = dedupeKeyOf(job, item, index, items.length);
    for (const userId of recipientsOf(item)) entries.push({ userId, dedupeKey });
  });
  return entries;
}
