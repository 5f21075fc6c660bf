import type { LoggerService } from '@nestjs/common';
import type { DedupeKeyEntry, NotificationStore } from '../storage/notification.store.js';

/** Releases go out on a tick of this period, while any key waits. */
export const RELEASE_FLUSH_MS = 50;
/**
 * How long a completed job's keys wait before they are released: the ticks (of RELEASE_FLUSH_MS)
 * that pass before a key queued between two ticks is sent, RELEASE_DELAY_MS in all. A fan-out's
 * jobs complete while the notifications they stored are still being delivered; their releases (a
 * script call per 100 users, the service's and Redis's time) go once that is done, not between
 * its deliveries.
 */
export const RELEASE_DELAY_MS = 1000;
/** Keys per store call at most: what falls due on one tick goes in calls of this many. */
export const RELEASE_BATCH_MAX = 1000;
/** Keys waiting at most: past this many, the oldest go at once (memory stays bounded in a flood). */
export const RELEASE_QUEUE_MAX = 100_000;

const DELAY_TICKS = Math.ceil(RELEASE_DELAY_MS / RELEASE_FLUSH_MS);

/** The keys queued between two ticks. */
interface Slot {
  entries: DedupeKeyEntry[];
  /** How many of `entries`, from the first, are sent already. */
  sent: number;
  /** The tick it was opened after (see `ticks`). */
  opened: number;
}

/**
 * Releases dedupe keys (see `NotificationStore.releaseDedupeKeys`) about RELEASE_DELAY_MS after
 * they were queued, what falls due together in store calls of RELEASE_BATCH_MAX keys at most. A
 * release that fails harms nothing (the key stays until the history drops it): it is logged at warn
 * once, not again until a release succeeds, and never retried.
 *
 * The delay is counted in ticks of a timer that runs only while keys wait, not by a clock: a key
 * cannot wait much longer than RELEASE_DELAY_MS however the wall clock moves.
 */
export class DedupeKeyReleaser {
  /** Oldest first; the last one fills until the next tick. */
  private readonly slots: Slot[] = [];
  private queued = 0;
  /** Ticks so far: a slot is `ticks - opened` ticks old. */
  private ticks = 0;
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
    let slot = this.slots.at(-1);
    if (!slot || slot.opened < this.ticks) {
      slot = { entries: [], sent: 0, opened: this.ticks };
      this.slots.push(slot);
    }
    for (const entry of entries) slot.entries.push(entry);
    this.queued += entries.length;
    const excess = this.queued - RELEASE_QUEUE_MAX;
    if (excess > 0) this.sendOldest(Math.max(excess, RELEASE_BATCH_MAX));
    if (this.timer === undefined) this.schedule();
  }

  /**
   * Sends what is queued and waits for every release in flight; later `add`s are ignored. Call it
   * while the store's connection is still open.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queued > 0) this.sendOldest(this.queued);
    await Promise.all(this.inFlight);
  }

  private schedule(): void {
    this.timer = setTimeout(() => this.tick(), RELEASE_FLUSH_MS);
    // Nothing to keep a process alive for: close() sends what is left.
    this.timer.unref();
  }

  /** Counts a tick and sends the slots that have waited RELEASE_DELAY_MS. */
  private tick(): void {
    this.timer = undefined;
    this.ticks += 1;
    const due = this.slots.filter((slot) => this.ticks - slot.opened >= DELAY_TICKS);
    const keys = due.reduce((sum, slot) => sum + slot.entries.length - slot.sent, 0);
    if (keys > 0) this.sendOldest(keys);
    if (this.queued > 0) this.schedule();
  }

  /** Sends the `count` oldest keys, in store calls of RELEASE_BATCH_MAX at most. */
  private sendOldest(count: number): void {
    let left = count;
    let batch: DedupeKeyEntry[] = [];
    while (left > 0 && this.slots.length > 0) {
      const slot = this.slots[0];
      const end = slot.sent + Math.min(left, RELEASE_BATCH_MAX - batch.length);
      const taken = Math.min(end, slot.entries.length) - slot.sent;
      for (let i = slot.sent; i < slot.sent + taken; i++) batch.push(slot.entries[i]);
      slot.sent += taken;
      left -= taken;
      this.queued -= taken;
      if (slot.sent === slot.entries.length) this.slots.shift();
      if (batch.length === RELEASE_BATCH_MAX) {
        this.send(batch);
        batch = [];
      }
    }
    if (batch.length > 0) this.send(batch);
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
