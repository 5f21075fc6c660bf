import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { NotificationsSettings } from '../notifications.settings.js';
import { decodeChannelMessage } from './channel-message.js';
import { ShardedSubscriber } from './cluster-subscriber.js';
import { NotificationBroker, type ChannelListener } from './notification.broker.js';
import { RedisKeys } from './redis-keys.js';

/**
 * The broker on a Redis Cluster: user channels are shard channels (`SSUBSCRIBE`), each on the master
 * of its user's slot, one connection per master (see ShardedSubscriber). When a shard's channels are
 * lost (its master died, a slot moved) they are subscribed again wherever they now live, and only the
 * sockets of those users that were live before are made to resume.
 */
export class ClusterNotificationBroker extends NotificationBroker implements OnApplicationShutdown {
  private readonly logger = new Logger(ClusterNotificationBroker.name);
  private readonly keys: RedisKeys;
  private readonly subscriber: ShardedSubscriber;
  private readonly sockets = new Map<string, number>();
  private readonly listeners: ChannelListener[] = [];
  private readonly resubscribedListeners: ((userIds?: readonly string[]) => void)[] = [];
  private lostEvents = 0;
  /** Channels lost and restored since the last log line (one line per burst, not per channel). */
  private readonly tally = { lost: 0, restored: 0, scheduled: false };

  constructor(cluster: Cluster, settings: NotificationsSettings) {
    super();
    this.keys = new RedisKeys(settings.keyPrefix, true);
    this.subscriber = new ShardedSubscriber(
      cluster,
      {
        message: (channel, raw) => {
          const userId = this.keys.userOfChannel(channel);
          const message = userId === undefined ? undefined : decodeChannelMessage(userId, raw);
          if (!message) return;
          for (const listener of this.listeners) listener(message);
        },
        lost: (channels) => {
          this.lostEvents += 1;
          this.count('lost', channels.length);
        },
        restored: (channels) => {
          const userIds = channels
            .map((channel) => this.keys.userOfChannel(channel))
            .filter((userId): userId is string => userId !== undefined);
          this.count('restored', channels.length);
          for (const listener of this.resubscribedListeners) listener(userIds);
        },
      },
      { connectionName: 'notifications-subscriber' },
    );
  }

  get subscribedUsers(): number {
    return this.sockets.size;
  }

  get generation(): number {
    return this.lostEvents;
  }

  onMessage(listener: ChannelListener): void {
    this.listeners.push(listener);
  }

  onResubscribed(listener: (userIds?: readonly string[]) => void): void {
    this.resubscribedListeners.push(listener);
  }

  subscriptionsByShard(): ReadonlyMap<string, number> {
    return this.subscriber.channelsByNode();
  }

  async acquire(userId: string): Promise<void> {
    this.sockets.set(userId, (this.sockets.get(userId) ?? 0) + 1);
    await this.subscriber.subscribe(this.keys.keyOf(userId, 'channel'));
  }

  release(userId: string): void {
    const held = this.sockets.get(userId);
    if (held === undefined) return;
    const sockets = held - 1;
    if (sockets > 0) {
      this.sockets.set(userId, sockets);
      return;
    }
    this.sockets.delete(userId);
    this.subscriber.unsubscribe(this.keys.keyOf(userId, 'channel'));
  }

  private count(what: 'lost' | 'restored', channels: number): void {
    this.tally[what] += channels;
    if (this.tally.scheduled) return;
    this.tally.scheduled = true;
    setTimeout(() => {
      const { lost, restored } = this.tally;
      Object.assign(this.tally, { lost: 0, restored: 0, scheduled: false });
      if (lost > 0) this.logger.warn(`lost ${lost} user channels (failover or slot moved)`);
      if (restored > 0) this.logger.log(`subscribed ${restored} user channels again`);
    }, 1000).unref();
  }

  onApplicationShutdown(): void {
    this.subscriber.close();
  }
}
