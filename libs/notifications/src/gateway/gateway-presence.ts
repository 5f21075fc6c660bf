import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setImmediate as endOfTurn, setTimeout as sleep } from 'node:timers/promises';
import { NotificationsMetrics } from '../notifications.metrics.js';
import { NotificationsSettings } from '../notifications.settings.js';
import { PresenceStore } from '../storage/presence.store.js';
import { SlicedWalk } from '../utils/sliced-walk.util.js';
import { withTimeout } from '../utils/with-timeout.util.js';
import type { ClientConnection } from './client-connection.js';
import { ConnectionRegistry } from './connection.registry.js';

/** Longest the goodbye at shutdown may hold it up (Redis may be down). */
const GOODBYE_TIMEOUT_MS = 2000;
/**
 * Least time between the starts of two writes. A connect storm's first entries go at the end of
 * their turn, the next ones together at most this much later: one write per 10 ms rather than one
 * per few connects (0.04 writes per connect against 0.12 in the bench's idle scenario; see the
 * CHANGELOG). An entry is that much later, at most, during a burst.
 */
export const PRESENCE_WRITE_SPACING_MS = 10;

/**
 * This gateway's share of presence (see `PresenceService`): an entry per user with a socket here,
 * under this process's random instance id, whose deadline lies one ping interval ahead. An entry is
 * written when the user's first socket here registers, refreshed every third of a ping interval
 * (on the heartbeat's ticks, so a gateway that dies stops counting within one interval), removed
 * when the user's last socket here closes, and every entry is removed at shutdown. Writes are
 * batched: one at a time, each carrying every change and refresh due since the last (at least those
 * of one turn of the event loop), starting at least `PRESENCE_WRITE_SPACING_MS` apart.
 */
@Injectable()
export class GatewayPresence implements BeforeApplicationShutdown {
  /** This gateway process's member in every presence entry it writes. */
  readonly instanceId = randomUUID();
  private readonly logger = new Logger(GatewayPresence.name);
  /** Users whose entry is to be written next: set, or removed when they have no socket left. */
  private readonly pending = new Set<string>();
  /** Users this gateway has an entry for, and when it is due for a refresh (epoch ms). */
  private readonly refreshAt = new Map<string, number>();
  private readonly refreshWalk = new SlicedWalk(
    () => this.refreshAt.entries(),
    () => this.refreshAt.size,
  );
  private writing: Promise<void> | undefined;
  private writeAgain = false;
  /** When the last write started (epoch ms). */
  private lastWriteAt = 0;
  /** `PRESENCE_WRITE_SPACING_MS`; a spec may take 0 to see each write follow the last at once. */
  protected readonly writeSpacingMs: number = PRESENCE_WRITE_SPACING_MS;
  private stopped = false;
  private failing = false;

  constructor(
    private readonly store: PresenceStore,
    private readonly registry: ConnectionRegistry<ClientConnection>,
    private readonly settings: NotificationsSettings,
    private readonly metrics: NotificationsMetrics,
  ) {}

  /** How often an entry is refreshed: a third of the ping interval, its lifetime. */
  get refreshEveryMs(): number {
    return Math.max(1, Math.floor(this.settings.limits.pingIntervalMs / 3));
  }

  /** A socket of the user was registered here. */
  joined(userId: string): void {
    if (this.stopped || this.refreshAt.has(userId)) return;
    this.pending.add(userId);
    this.flush();
  }

  /** A socket of the user was unregistered here. */
  left(userId: string): void {
    if (this.registry.has(userId)) return;
    if (!this.refreshAt.has(userId) && !this.pending.has(userId)) return;
    this.pending.add(userId);
    this.flush();
  }

  /**
   * On each heartbeat tick: refreshes the entries that are due, in one batch. A tick looks at a
   * slice of the entries (see SlicedWalk), so a refresh is up to ten ticks (0.5-1 s) late, a small
   * part of an entry's lifetime (a ping interval, three refresh periods).
   */
  refreshDue(now = Date.now()): void {
    if (this.stopped) return;
    this.refreshWalk.step(([userId, at]) => {
      if (at <= now) this.pending.add(userId);
    });
    if (this.pending.size > 0) this.flush();
  }

  /** Removes every entry of this gateway: its users stop counting at once, not after a lapse. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    for (const userId of this.refreshAt.keys()) this.pending.add(userId);
    this.flush();
    await withTimeout(this.idle(), GOODBYE_TIMEOUT_MS, () => new Error('timed out')).catch(
      () => undefined,
    );
  }

  /**
   * Starts a write at the end of this turn of the event loop (so that a burst of connects is one
   * write), or, when the last one started less than `writeSpacingMs` ago, once that much has
   * passed; or has the write under way (or waiting) followed by another. Once stopped (the goodbye
   * at shutdown), a new write does not wait for the spacing.
   */
  private flush(): void {
    if (this.writing) {
      this.writeAgain = true;
      return;
    }
    this.writing = this.spacedTurn()
      .then(() => this.writePending())
      .finally(() => {
        this.writing = undefined;
        if (!this.writeAgain) return;
        this.writeAgain = false;
        this.flush();
      });
  }

  /**
   * Waits until `writeSpacingMs` has passed since the last write started (by the wall clock: a
   * timer may fire up to the loop's cached time early, so it waits again), then for the end of the
   * turn. Once stopped, only for the end of the turn.
   */
  private async spacedTurn(): Promise<void> {
    let wait = this.lastWriteAt + this.writeSpacingMs - Date.now();
    while (wait > 0 && !this.stopped) {
      await sleep(wait);
      wait = this.lastWriteAt + this.writeSpacingMs - Date.now();
    }
    await endOfTurn();
  }

  private async idle(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /** Writes what is pending; never rejects: what failed is retried on the next tick. */
  private async writePending(): Promise<void> {
    if (this.pending.size === 0) return;
    const now = Date.now();
    this.lastWriteAt = now;
    const users = [...this.pending];
    this.pending.clear();
    const present: string[] = [];
    const absent: string[] = [];
    for (const userId of users) {
      if (!this.stopped && this.registry.has(userId)) {
        present.push(userId);
        // A new entry's first refresh falls at a random point of the period: the entries of a burst
        // of connects are then refreshed a few at every tick, not all at the same one, ever after.
        const period = this.refreshEveryMs;
        const first = !this.refreshAt.has(userId);
        this.refreshAt.set(userId, now + (first ? Math.ceil(Math.random() * period) : period));
      } else {
        absent.push(userId);
        this.refreshAt.delete(userId);
      }
    }
    const deadline = now + this.settings.limits.pingIntervalMs;
    try {
      await this.store.write({ instanceId: this.instanceId, present, deadline, absent, now });
      this.metrics.presenceWrites.inc({ result: 'ok' }, users.length);
      if (this.failing) this.logger.log('presence writes succeed again');
      this.failing = false;
    } catch (error) {
      this.metrics.presenceWrites.inc({ result: 'failed' }, users.length);
      if (!this.failing) {
        this.logger.warn(
          `presence write failed (retried on the heartbeat): ${(error as Error).message}`,
        );
      }
      this.failing = true;
      if (!this.stopped) for (const userId of users) this.pending.add(userId);
    }
  }
}
