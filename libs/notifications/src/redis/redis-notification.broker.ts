import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import {
  NotificationBroker,
  type ChannelListener,
  type ChannelMessage,
} from '../notification.broker.js';
import { NOTIFICATIONS_REDIS } from '../notifications.constants.js';
import { NotificationsSettings } from '../notifications.settings.js';
import { RedisKeys } from './redis-keys.js';

interface Subscription {
  sockets: number;
  ready: Promise<unknown>;
}

/**
 * Subscribes this instance to a user's channel while it holds at least one socket of that user.
 * SUBSCRIBE and UNSUBSCRIBE go out in call order on one connection, so a release racing an acquire
 * always ends subscribed.
 */
@Injectable()
export class RedisNotificationBroker extends NotificationBroker implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisNotificationBroker.name);
  private readonly subscriber: Redis;
  private readonly keys: RedisKeys;
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly listeners: ChannelListener[] = [];

  constructor(@Inject(NOTIFICATIONS_REDIS) redis: Redis, settings: NotificationsSettings) {
    super();
    this.keys = new RedisKeys(settings.keyPrefix);
    this.subscriber = redis.duplicate({ connectionName: 'notifications-subscriber' });
    this.subscriber.on('error', (error: Error) =>
      this.logger.warn(`subscriber connection: ${error.message}`),
    );
    this.subscriber.on('message', (channel: string, message: string) =>
      this.dispatch(channel, message),
    );
  }

  get subscribedUsers(): number {
    return this.subscriptions.size;
  }

  onMessage(listener: ChannelListener): void {
    this.listeners.push(listener);
  }

  async acquire(userId: string): Promise<void> {
    let subscription = this.subscriptions.get(userId);
    if (!subscription) {
      subscription = {
        sockets: 0,
        ready: this.subscriber.subscribe(this.keys.forUser(userId).channel),
      };
      this.subscriptions.set(userId, subscription);
    }
    subscription.sockets += 1;
    await subscription.ready;
  }

  release(userId: string): void {
    const subscription = this.subscriptions.get(userId);
    if (!subscription) return;
    subscription.sockets -= 1;
    if (subscription.sockets > 0) return;
    this.subscriptions.delete(userId);
    this.subscriber
      .unsubscribe(this.keys.forUser(userId).channel)
      .catch((error: Error) => this.logger.warn(`unsubscribe failed: ${error.message}`));
  }

  private dispatch(channel: string, raw: string): void {
    const userId = this.keys.userOfChannel(channel);
    const newline = raw.indexOf('\n');
    if (userId === undefined || newline < 0) return;
    // Header written by the store's scripts: `<epoch> <version> <id | ->`.
    const [epoch, version, id] = raw.slice(0, newline).split(' ');
    const message: ChannelMessage = {
      userId,
      epoch,
      version: Number(version),
      frame: raw.slice(newline + 1),
    };
    if (id !== '-') message.id = id;
    for (const listener of this.listeners) listener(message);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }
}
