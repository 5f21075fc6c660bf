import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ConnectionRegistry } from './gateway/connection.registry.js';
import { NotificationBroker } from './storage/notification.broker.js';
import { NOTIFICATIONS_METRICS_REGISTRY, NOTIFICATIONS_QUEUE } from './notifications.constants.js';
import { withTimeout } from './utils/with-timeout.util.js';

const QUEUE_COUNTS_TIMEOUT_MS = 500;

/**
 * Prometheus metrics of this instance, on a registry of their own (the host exposes it, e.g. at
 * `GET /metrics`, and may add its own metrics to it).
 */
@Injectable()
export class NotificationsMetrics {
  readonly registry: Registry;
  /** Notifications newly stored by this instance's worker. */
  readonly stored: Counter;
  /** Notification frames written to sockets of this instance. */
  readonly delivered: Counter;
  /** Jobs that failed on this instance's worker, by reason (`invalid` or `error`). */
  readonly failed: Counter<'reason'>;
  /** Stores this instance's worker retried because Redis was unreachable. */
  readonly storeRetries: Counter;
  /** Seconds from enqueue to the write to a socket, once per notification and instance. */
  readonly pushLatency: Histogram;
  /** Sockets closed by the server, by close code (4401, 4403, 4429, 1009, 4008, 1011). */
  readonly rejected: Counter<'code'>;
  /** Notifications removed by the expiry sweeper. */
  readonly expired: Counter;
  /** Presence entries this gateway wrote (set, refreshed or removed), by result (`ok`, `failed`). */
  readonly presenceWrites: Counter<'result'>;
  /** Notifications not stored because the user muted their category in-app. */
  readonly suppressed: Counter;
  /** `fallback` jobs added to the host's fallback queue. */
  readonly fallbacks: Counter;
  /** Dedupe keys of completed jobs' attempts that this instance's worker released. */
  readonly dedupeKeysReleased: Counter;
  /** Live sockets made to resume because a message of their user's channel never arrived here. */
  readonly streamBreaks: Counter;

  constructor(
    connections: ConnectionRegistry,
    @Optional() @Inject(NotificationBroker) broker: NotificationBroker | null,
    @Inject(NOTIFICATIONS_QUEUE) queue: Queue,
    @Optional() @Inject(NOTIFICATIONS_METRICS_REGISTRY) registry?: Registry,
  ) {
    this.registry = registry ?? new Registry();
    const registers = [this.registry];
    this.stored = new Counter({
      name: 'notifications_stored_total',
      help: 'Notifications newly stored (duplicates excluded)',
      registers,
    });
    this.delivered = new Counter({
      name: 'notifications_delivered_total',
      help: 'Notification frames written to sockets',
      registers,
    });
    this.failed = new Counter({
      name: 'notifications_failed_jobs_total',
      help: 'Notify jobs that failed, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.storeRetries = new Counter({
      name: 'notifications_store_retries_total',
      help: 'Stores retried by the worker because Redis was unreachable',
      registers,
    });
    this.pushLatency = new Histogram({
      name: 'notifications_enqueue_to_push_seconds',
      help: 'Time from enqueue to the write to a socket',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.expired = new Counter({
      name: 'notifications_expired_total',
      help: 'Notifications the expiry sweeper removed after their expiresAt',
      registers,
    });
    this.presenceWrites = new Counter({
      name: 'notifications_presence_writes_total',
      help: 'Presence entries written by this gateway (set, refreshed or removed), by result',
      labelNames: ['result'],
      registers,
    });
    this.suppressed = new Counter({
      name: 'notifications_suppressed_total',
      help: "Notifications not stored because the user's preferences muted their category in-app",
      registers,
    });
    this.fallbacks = new Counter({
      name: 'notifications_fallback_jobs_total',
      help: "fallback jobs added to the host's fallback queue (unread after the delay, or offline)",
      registers,
    });
    this.dedupeKeysReleased = new Counter({
      name: 'notifications_dedupe_keys_released_total',
      help: "Dedupe keys of completed jobs' attempts released from the users' dedupe indexes",
      registers,
    });
    this.streamBreaks = new Counter({
      name: 'notifications_stream_breaks_total',
      help: "Live sockets closed to resume because a message of their user's channel never arrived",
      registers,
    });
    this.rejected = new Counter({
      name: 'notifications_closed_connections_total',
      help: 'Sockets closed by the server, by close code',
      labelNames: ['code'],
      registers,
    });
    new Gauge({
      name: 'notifications_open_sockets',
      help: 'Open authenticated sockets on this instance',
      registers,
      collect() {
        this.set(connections.connectionCount);
      },
    });
    new Gauge({
      name: 'notifications_connected_users',
      help: 'Users with at least one socket on this instance',
      registers,
      collect() {
        this.set(connections.userCount);
      },
    });
    new Gauge({
      name: 'notifications_subscribed_channels',
      help: 'User channels this instance is subscribed to',
      registers,
      collect() {
        this.set(broker?.subscribedUsers ?? 0);
      },
    });
    if (broker?.subscriptionsByShard() !== undefined) {
      new Gauge({
        name: 'notifications_shard_subscriptions',
        help: 'User channels this instance is subscribed to, by cluster shard (master host:port)',
        labelNames: ['shard'],
        registers,
        collect() {
          this.reset();
          for (const [shard, count] of broker?.subscriptionsByShard() ?? []) {
            this.set({ shard }, count);
          }
        },
      });
    }
    new Gauge({
      name: 'notifications_queue_jobs',
      help: 'Jobs in the notify queue, by state',
      labelNames: ['state'],
      registers,
      async collect() {
        // While Redis is unreachable a scrape answers at once, with the last counts it had.
        const counts = await withTimeout(
          queue.getJobCounts('waiting', 'active', 'delayed', 'failed'),
          QUEUE_COUNTS_TIMEOUT_MS,
          () => new Error('queue counts timed out'),
        ).catch(() => undefined);
        for (const [state, count] of Object.entries(counts ?? {})) this.set({ state }, count);
      },
    });
  }
}
