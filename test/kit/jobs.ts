import { Job, type Queue, type QueueEvents } from 'bullmq';
import { eventually } from './timing.mjs';

/**
 * Waits until every job has finished, within one deadline for all of them; resolves with their
 * return values in order, rejects with the first failure (or timeout) met.
 *
 * NOTE: the jobs are awaited in turn, not with `Promise.all`. BullMQ's `Job.waitUntilFinished` adds a
 * 'closing' listener to the job's `Queue` for as long as it waits, so more than ten waits at once on
 * one producer trip Node's MaxListenersExceededWarning (a false alarm, but noise in every run). In turn
 * it holds one listener at a time and takes no longer: the worker runs the jobs meanwhile, and the wait
 * for a job that has already finished ends after one Redis round trip.
 */
export async function waitForJobs(
  jobs: readonly Job[],
  events: QueueEvents,
  timeoutMs: number,
): Promise<unknown[]> {
  const deadline = Date.now() + timeoutMs;
  const results: unknown[] = [];
  for (const job of jobs) {
    results.push(await job.waitUntilFinished(events, Math.max(1, deadline - Date.now())));
  }
  return results;
}

/**
 * The reason `job` failed, read from Redis until it has one (else a timeout error). For a job added
 * right after a `QueueEvents` was opened: its stream may begin reading after the job has failed, and
 * `waitUntilFinished` would then wait for an event that it never sees.
 */
export async function failedReasonOf(queue: Queue, job: Job, timeoutMs: number): Promise<string> {
  return eventually(
    async () => (await Job.fromId(queue, job.id!))?.failedReason,
    timeoutMs,
    `job ${job.id} failed`,
  );
}
