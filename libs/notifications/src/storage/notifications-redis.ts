import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Queue } from 'bullmq';
import { Redis, type Cluster, type RedisOptions } from 'ioredis';
import { NotificationsUnavailableError } from '../errors/notifications-unavailable.error.js';
import { NOTIFICATIONS_QUEUE } from '../notifications.constants.js';
import { withTimeout } from '../utils/with-timeout.util.js';
import type { RedisConnection } from './cluster-connection.js';

/** What an ioredis client offers that this module relies on (of whichever ioredis copy the host has). */
interface IoredisLike {
  duplicate(options?: RedisOptions): Redis;
  status: string;
  isCluster?: boolean;
}

function isIoredisClient(connection: object): connection is IoredisLike {
  const candidate = connection as Partial<IoredisLike>;
  return typeof candidate.duplicate === 'function' && typeof candidate.status === 'string';
}

/**
 * A connection of the library's own to the host's Redis, made from the host's BullMQ connection (the
 * queue's `connection` option: ioredis options, a `url`, or an ioredis client), so that the library
 * never configures Redis itself. It works the same with BullMQ 5 and 6.
 */
export function connectionFrom(connection: unknown, overrides: RedisOptions): RedisConnection {
  if (connection === undefined || connection === null) return new Redis(overrides);
  if (typeof connection !== 'object') {
    throw new TypeError('NotificationsModule: the BullMQ connection must be Redis options');
  }
  if (isIoredisClient(connection)) {
    if (connection.isCluster) {
      // A Redis Cluster: a cluster client of the library's own to the same nodes, with the same
      // options (ioredis merges `duplicate`'s options shallowly, hence the node options in full).
      const cluster = connection as unknown as Cluster;
      return cluster.duplicate([], {
        redisOptions: { ...cluster.options.redisOptions, ...overrides },
      });
    }
    return connection.duplicate(overrides);
  }
  if (typeof (connection as { duplicate?: unknown }).duplicate === 'function') {
    throw new TypeError(
      'NotificationsModule: the BullMQ connection must be ioredis options or an ioredis client',
    );
  }
  const { url, ...options } = connection as RedisOptions & { url?: string };
  return typeof url === 'string'
    ? new Redis(url, { ...options, ...overrides })
    : new Redis({ ...options, ...overrides });
}

/** Longest a shutdown waits for a BullMQ connection that is still starting (Redis may be down). */
const START_SETTLE_MS = 2000;

/**
 * Waits, at most START_SETTLE_MS, for a BullMQ queue's or worker's connections to finish starting
 * (see `NotificationsRedis.beforeApplicationShutdown`); never rejects.
 */
export async function settleStart(ready: Promise<unknown>): Promise<void> {
  await withTimeout(ready, START_SETTLE_MS, () => new Error('still starting')).catch(
    () => undefined,
  );
}

/**
 * The library's own Redis connection (the store's commands), created from the host's BullMQ
 * connection and closed at shutdown by this same provider. Commands fail after a short retry
 * instead of queueing forever while Redis is down.
 */
@Injectable()
export class NotificationsRedis implements BeforeApplicationShutdown, OnApplicationShutdown {
  /** One Redis, or a Redis Cluster when the host's BullMQ connection is a cluster client. */
  readonly client: RedisConnection;
  private readonly firstReady: Promise<void>;
  private wasReady = false;

  constructor(@Inject(NOTIFICATIONS_QUEUE) private readonly queue: Queue) {
    this.client = connectionFrom(queue.opts.connection, {
      connectionName: 'notifications-store',
      maxRetriesPerRequest: 2,
    });
    this.client.on('error', () => undefined);
    this.firstReady = new Promise<void>((resolve) => {
      this.client.once('ready', () => {
        this.wasReady = true;
        resolve();
      });
    });
  }

  /**
   * Resolves while Redis is reachable. Rejects with `NotificationsUnavailableError` at once while the
   * connection is known to be down, and after `timeoutMs` while it is still making its first
   * connection.
   */
  async whenAvailable(timeoutMs: number): Promise<void> {
    if (this.client.status === 'ready') return;
    if (this.wasReady) throw new NotificationsUnavailableError();
    await withTimeout(this.firstReady, timeoutMs, () => new NotificationsUnavailableError());
  }

  /**
   * Before the queue is closed (by @nestjs/bullmq, at `onApplicationShutdown`): its connection, if
   * still starting, gets a moment to be ready. BullMQ closes a connection that is still starting by
   * dropping it and removing its listeners, and the rejection of its start (it was asking Redis's
   * version) then surfaces as an unhandled rejection: a host stopped right after it started.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await settleStart(this.queue.waitUntilReady());
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
