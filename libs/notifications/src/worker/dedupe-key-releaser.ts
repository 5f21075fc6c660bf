import type { LoggerService } from '@nestjs/common';
import type { DedupeKeyEntry, NotificationStore } from '../storage/notification.store.js';

/** How long a queued key waits at most for others to share its store call. */
export const RELEASE_FLUSH_MS = 50;
/** Keys per store call at most; this many waiting are sent at once. */
export const RELEASE_BATCH_MAX = 1000;

/**
 * Releases dedupe keys (see `NotificationStore.releaseDedupeKeys`) in batches: what is queued goes to
 * the store RELEASE_FLUSH_MS after the first of it, or as soon as RELEASE_BATCH_MAX entries wait, one
 * store call per batch. A release that fails harms nothing (the key stays until the history drops
 * it): it is logged at warn once, not again until a release succeeds, and never retried.
 */
export class DedupeKeyReleaser {
  private queued: DedupeKeyEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private failing = false;
  private closed = false;

  constructor(
    private readonly store: NotificationStore,
    private readonly logger: LoggerService,
    /** Told how many keys each successful batch released (a metric). */
    private readonly onReleased: (count: number) => void = () => undefined,
  ) {}

  /** Queues `entries` for release. Ignored once closed. */
  add(entries: readonly DedupeKeyEntry[]): void {
    if (this.closed || entries.length === 0) return;
    for (const entry of entries) this.queued.push(entry);
    while (this.queued.length >= RELEASE_BATCH_MAX) {
      this.send(this.queued.splice(0, RELEASE_BATCH_MAX));
    }
    if (this.queued.length === 0) this.stopTimer();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), RELEASE_FLUSH_MS);
      // Nothing to keep a process alive for: close() sends what is left.
      this.timer.unref();
    }
  }

  /**
   * Sends what is queued and waits for every release in flight; later `add`s are ignored. Call it
   * while the store's connection is still open.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.flush();
    await Promise.all(this.inFlight);
  }

  private flush(): void {
    this.stopTimer();
    while (this.queued.length > 0) this.send(this.queued.splice(0, RELEASE_BATCH_MAX));
  }

  private stopTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private send(batch: DedupeKeyEntry[]): void {
    // The store is called now (an async function runs up to its first await); a throw rejects.
    const release: Promise<void> = (async () => this.store.releaseDedupeKeys(batch))()
      .then(
        () => {
          this.failing = false;
          this.onReleased(batch.length);
        },
        (error: unknown) => {
          if (this.failing) return;
          this.failing = true;
          // Counts only: user ids and keys come from producers.
          const reason = error instanceof Error ? error.message : 'unknown error';
          this.logger.warn(
            `could not release ${batch.length} dedupe key(s) of completed jobs (${reason}); ` +
              'they stay until the history drops them',
          );
        },
      )
      .finally(() => this.inFlight.delete(release));
    this.inFlight.add(release);
  }
}
