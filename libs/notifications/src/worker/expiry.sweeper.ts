import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { NotificationStore } from '../storage/notification.store.js';
import { NotificationsMetrics } from '../notifications.metrics.js';
import { NotificationsSettings } from '../notifications.settings.js';

/** Batches one sweep takes at most before it leaves the rest to the next one. */
const MAX_BATCHES_PER_SWEEP = 20;

/**
 * Removes notifications past their `expiresAt` on a timer, so that open sockets hear of it (`removed`)
 * without anyone reading the inbox. Runs on workers; any number of them may sweep at once.
 */
@Injectable()
export class ExpirySweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ExpirySweeper.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: NotificationStore,
    private readonly settings: NotificationsSettings,
    private readonly metrics: NotificationsMetrics,
  ) {}

  onApplicationBootstrap(): void {
    const interval = this.settings.expirySweepIntervalMs;
    if (interval <= 0) return;
    this.timer = setInterval(() => this.tick(), interval);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One sweep: every user due now, in batches. Returns how many notifications it removed. */
  async sweep(): Promise<number> {
    let removed = 0;
    for (let batch = 0; batch < MAX_BATCHES_PER_SWEEP; batch++) {
      const result = await this.store.sweepExpired();
      removed += result.removed;
      if (!result.more) break;
    }
    this.metrics.expired.inc(removed);
    return removed;
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.sweep()
      .then(
        () => undefined,
        (error: Error) => this.logger.warn(`expiry sweep failed: ${error.message}`),
      )
      .finally(() => (this.running = undefined));
  }
}
