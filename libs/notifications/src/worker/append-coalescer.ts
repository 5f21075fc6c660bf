import type {
  AppendRequest,
  AppendResult,
  NotificationStore,
} from '../storage/notification.store.js';

/** Requests one round trip takes at most (the job contract allows 1,000 recipients per job). */
export const COALESCE_MAX_REQUESTS = 2000;

interface Waiting {
  requests: AppendRequest[];
  resolve: (results: AppendResult[]) => void;
  reject: (error: unknown) => void;
}

/**
 * The worker's group commit, the twin of the producer's: the stores of the jobs that are in flight
 * together go to the store in one round trip. One round trip is under way at a time; the jobs that
 * ask meanwhile wait for it and then go together in the next. A job alone (low load) goes at the
 * next turn of the event loop, so it waits for nothing.
 *
 * Each job's store succeeds or fails alone: an error in one job's requests rejects that job only;
 * Redis being unreachable rejects every job of the round trip, and each retries by itself (its
 * requests keep their dedupe keys, so nothing is stored twice). Order is kept: requests go in the
 * order they were asked for.
 */
export class AppendCoalescer {
  private waiting: Waiting[] = [];
  private busy = false;
  private scheduled = false;

  constructor(
    private readonly store: NotificationStore,
    private readonly maxRequests = COALESCE_MAX_REQUESTS,
  ) {}

  append(requests: AppendRequest[]): Promise<AppendResult[]> {
    return new Promise<AppendResult[]>((resolve, reject) => {
      this.waiting.push({ requests, resolve, reject });
      this.schedule();
    });
  }

  /** Round trips under way or asked for: 0 when idle. */
  get pending(): number {
    return this.waiting.length + (this.busy ? 1 : 0);
  }

  private schedule(): void {
    if (this.busy || this.scheduled || this.waiting.length === 0) return;
    this.scheduled = true;
    // The jobs whose fetch replies arrived in the same read of the socket start in the same turn:
    // the next turn takes them all.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.busy || this.waiting.length === 0) return;
    this.busy = true;
    let taken = 0;
    let size = 0;
    while (taken < this.waiting.length && (taken === 0 || size < this.maxRequests)) {
      size += this.waiting[taken].requests.length;
      taken++;
    }
    const batch = this.waiting.splice(0, taken);
    try {
      if (batch.length === 1) {
        // Alone: nothing to keep apart.
        batch[0].resolve(await this.store.append(batch[0].requests));
      } else {
        const results = await this.store.appendGroups(batch.map((w) => w.requests));
        batch.forEach((w, i) => {
          const result = results[i];
          if (result instanceof Error) w.reject(result);
          else if (result === undefined) w.reject(new Error('the store returned no result'));
          else w.resolve(result);
        });
      }
    } catch (error) {
      for (const w of batch) w.reject(error);
    } finally {
      this.busy = false;
      // Whatever arrived meanwhile goes now, together.
      if (this.waiting.length > 0) void this.flush();
    }
  }
}
