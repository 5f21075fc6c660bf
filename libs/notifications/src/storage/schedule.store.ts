/** What a cancel found under a user's dedupe key. */
export type CancelOutcome =
  | { outcome: 'cancelled'; jobId: string }
  /** Nothing is scheduled under the key (never was, or it was cancelled already). */
  | { outcome: 'none' }
  /** It is stored (in the user's history) or being stored right now: it cannot be cancelled. */
  | { outcome: 'fired' };

/**
 * Which job delivers each user's scheduled notification (by dedupe key), with cancel and fire made
 * mutually exclusive: a cancel that reports `cancelled` guarantees that the job stores nothing for
 * that user. Bound to Redis by `RedisScheduleStore`.
 */
export abstract class ScheduleStore {
  /**
   * Records that `jobId` delivers `dedupeKey` to each user. Per user: false when that job was
   * cancelled for the user already (it then stays cancelled).
   */
  abstract record(userIds: string[], dedupeKey: string, jobId: string): Promise<boolean[]>;
  /** Undoes `record` for a job that was never added (only where the key still names it). */
  abstract unrecord(userIds: string[], dedupeKey: string, jobId: string): Promise<void>;
  /**
   * The job is due: per user, true when it is to store the notification (and the key is from now on
   * "fired" for cancels), false when it was cancelled or scheduled again by another job.
   */
  abstract claim(userIds: string[], dedupeKey: string, jobId: string): Promise<boolean[]>;
  /** The job stored what it claimed: its keys are the history's from now on. */
  abstract release(userIds: string[], dedupeKey: string, jobId: string): Promise<void>;
  abstract cancel(userId: string, dedupeKey: string): Promise<CancelOutcome>;
  /** The cancelled job is gone from the queue: its cancel marker is no longer needed. */
  abstract forgetCancelled(userId: string, dedupeKey: string, jobId: string): Promise<void>;
}
