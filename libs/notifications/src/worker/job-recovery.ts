import type { Logger } from '@nestjs/common';
import { Job, type Worker } from 'bullmq';
import { setTimeout as delay } from 'node:timers/promises';
import type { RedisConnection } from '../storage/cluster-connection.js';

/** A job must be found out of hand twice, this far apart, to count as orphaned. */
const CONFIRM_AFTER_MS = 1000;

/**
 * Hands back the jobs this worker holds the lock of but never received, as soon as its Redis
 * connection is back. Such a job arises when Redis goes away after running a fetch (BullMQ's
 * `moveToActive`, or `moveToFinished` taking the next job) but before its reply arrived: the client
 * re-sends the command on reconnecting, the re-sent fetch takes another job, and the first stays
 * active under this worker's lock with no one working on it, until the lock expires and the
 * stalled-job check hands it back (`lockDuration` + `stalledInterval`: 40–60 s by default).
 *
 * The worker announces every job it receives (`active`); after every (re)connection this looks, twice
 * and a second apart, for active jobs under this worker's lock that it never announced, and moves
 * each one found both times with the same lock back to the wait list, where the next free worker
 * takes it at once. Moving needs that lock, so a job another worker took meanwhile is never touched,
 * and a retried job stores nothing twice (dedupe keys).
 */
export class JobRecovery {
  /** Jobs the worker received and has not finished: job id → lock token. */
  private readonly received = new Map<string, string>();
  private stopped = false;
  private running: Promise<void> | undefined;
  private again = false;
  private readonly onReady = () => this.schedule();
  private readonly onActive = (job: Job) => {
    if (job.id !== undefined && job.token !== undefined) this.received.set(job.id, job.token);
  };
  private readonly onFinished = (job: Job | undefined) => {
    if (job?.id !== undefined) this.received.delete(job.id);
  };

  /**
   * @param redis a connection to the worker's Redis (the library's own: BullMQ 6 no longer exposes
   * the worker's), whose every `ready` after an outage coincides with the worker's reconnection
   */
  constructor(
    private readonly worker: Worker,
    private readonly redis: RedisConnection,
    private readonly logger: Logger,
  ) {}

  /** Follows the worker's jobs, and checks after every `ready` of the connection. */
  start(): void {
    this.worker.on('active', this.onActive);
    this.worker.on('completed', this.onFinished);
    this.worker.on('failed', this.onFinished);
    this.redis.on('ready', this.onReady);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.worker.off('active', this.onActive);
    this.worker.off('completed', this.onFinished);
    this.worker.off('failed', this.onFinished);
    this.redis.removeListener('ready', this.onReady);
    await this.running;
  }

  /** Runs a check now, or once more after the one under way. */
  schedule(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.check()
      .then(() => undefined)
      .catch(() => {
        // Redis went away again: the next `ready` brings another check.
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.schedule();
        }
      });
  }

  /** Finds the orphaned jobs and moves them back to the wait list; resolves with how many. */
  async check(confirmAfterMs = CONFIRM_AFTER_MS): Promise<number> {
    const first = await this.orphans();
    if (first.size === 0) return 0;
    await delay(confirmAfterMs);
    if (this.stopped) return 0;
    const second = await this.orphans();
    let moved = 0;
    for (const [id, token] of second) {
      if (first.get(id) !== token) continue;
      const job = await Job.fromId(this.worker, id);
      // Fails when the job finished or changed hands meanwhile: then there is nothing to do.
      if (
        job &&
        (await job.moveToWait(token).then(
          () => true,
          () => false,
        ))
      )
        moved++;
    }
    if (moved > 0) {
      this.logger.warn(
        `${moved} job(s) left active by a Redis reply lost in a reconnection went back to the queue`,
      );
    }
    return moved;
  }

  /** Active jobs under this worker's lock that it never received: job id → lock token. */
  private async orphans(): Promise<Map<string, string>> {
    const client = this.redis;
    const receivedBefore = [...this.received.keys()];
    const active = new Set(await client.lrange(this.worker.keys.active, 0, -1));
    // Forget the jobs that left the active list without an event (moved to delayed, lock lost).
    for (const id of receivedBefore) if (!active.has(id)) this.received.delete(id);
    const ids = [...active];
    const locks = await Promise.all(ids.map((id) => client.get(`${this.worker.toKey(id)}:lock`)));
    const mine = `${this.worker.id}:`;
    const found = new Map<string, string>();
    ids.forEach((id, index) => {
      const token = locks[index];
      if (token?.startsWith(mine) && this.received.get(id) !== token) found.set(id, token);
    });
    return found;
  }
}
