import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { decodeChannelMessage } from './channel-message.js';
import { isCluster } from './cluster-connection.js';
import { NotificationBroker, type ChannelListener } from './notification.broker.js';
import { NotificationsSettings } from '../notifications.settings.js';
import { NotificationsRedis } from './notifications-redis.js';
import { RedisKeys } from './redis-keys.js';

interface Subscription {
  sockets: number;
  ready: Promise<unknown>;
}

function deferred(): {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: Error) => void;
} {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

/**
 * Subscribes this instance to a user's channel while it holds at least one socket of that user.
 * Channels go out in batches, one SUBSCRIBE each, at most one batch in flight: those acquired in a
 * turn of the event loop go at its end, and those acquired while a SUBSCRIBE waits for its answer
 * go together once it has it (a burst of connects costs a write and a Redis command per round trip,
 * not per socket; a lone connect waits no longer than before). The channels released in a turn go
 * as one UNSUBSCRIBE at its end (a burst of disconnects, likewise). SUBSCRIBE and UNSUBSCRIBE go out
 * in call order on one connection (a release first sends the SUBSCRIBE still waiting for its turn,
 * a SUBSCRIBE first sends the UNSUBSCRIBE still waiting for its own), so a release racing an
 * acquire always ends subscribed. Until the connection is first ready, and after it is lost, it
 * sends no SUBSCRIBE: it subscribes every wanted channel by itself once the connection is ready, and
 * until then new sockets wait.
 */
@Injectable()
export class RedisNotificationBroker extends NotificationBroker implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisNotificationBroker.name);
  private readonly subscriber: Redis;
  private readonly keys: RedisKeys;
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly listeners: ChannelListener[] = [];
  private readonly resubscribedListeners: (() => void)[] = [];
  /**
   * Set while the connection is not ready: before its first `ready` and after a `close`. ioredis
   * writes a SUBSCRIBE at once while its connection is still in its handshake (status `connect`):
   * the handshake's next command then fails in subscriber mode, the connection is dropped, and the
   * new one comes back without that channel. So no SUBSCRIBE goes out until `ready`.
   */
  private outage: ReturnType<typeof deferred> | undefined = deferred();
  /** Channels not sent yet: they go at the end of this turn, or once `inFlight` is answered. */
  private batch: { channels: string[]; subscribed: ReturnType<typeof deferred> } | undefined;
  /** Channels released in this turn of the event loop: they go as one UNSUBSCRIBE at its end. */
  private released: string[] | undefined;
  /** The SUBSCRIBE sent and not answered yet, if any. */
  private inFlight: Promise<unknown> | undefined;
  private connectedOnce = false;
  private closing = false;
  private lostConnections = 0;

  constructor(connection: NotificationsRedis, settings: NotificationsSettings) {
    super();
    this.keys = new RedisKeys(settings.keyPrefix);
    const client = connection.client;
    if (isCluster(client)) {
      throw new TypeError('RedisNotificationBroker: one Redis only (ClusterNotificationBroker)');
    }
    // This provider's own connection: subscribed only on gateways, created here and closed here.
    this.subscriber = client.duplicate({
      connectionName: 'notifications-subscriber',
      autoResubscribe: false,
      maxRetriesPerRequest: null,
    });
    this.subscriber.on('error', (error: Error) =>
      this.logger.warn(`subscriber connection: ${error.message}`),
    );
    this.subscriber.on('message', (channel: string, message: string) =>
      this.dispatch(channel, message),
    );
    this.subscriber.on('close', () => this.onConnectionLost());
    this.subscriber.on('ready', () => this.onConnectionReady());
  }

  get subscribedUsers(): number {
    return this.subscriptions.size;
  }

  get generation(): number {
    return this.lostConnections;
  }

  onMessage(listener: ChannelListener): void {
    this.listeners.push(listener);
  }

  onResubscribed(listener: () => void): void {
    this.resubscribedListeners.push(listener);
  }

  async acquire(userId: string): Promise<void> {
    let subscription = this.subscriptions.get(userId);
    if (!subscription) {
      subscription = {
        sockets: 0,
        // During an outage the channel is subscribed with the others once the connection is ready.
        ready: this.outage
          ? Promise.resolve()
          : this.subscribeSoon(this.keys.keyOf(userId, 'channel')),
      };
      this.subscriptions.set(userId, subscription);
    }
    subscription.sockets += 1;
    await subscription.ready;
    await this.outage?.promise;
  }

  release(userId: string): void {
    const subscription = this.subscriptions.get(userId);
    if (!subscription) return;
    subscription.sockets -= 1;
    if (subscription.sockets > 0) return;
    this.subscriptions.delete(userId);
    // A connection that is not ready holds no subscription; the next one will not subscribe it.
    if (this.outage) return;
    this.subscribeNow();
    if (!this.released) {
      this.released = [];
      setImmediate(() => this.unsubscribeNow());
    }
    this.released.push(this.keys.keyOf(userId, 'channel'));
  }

  /** Sends the waiting UNSUBSCRIBE, if any. */
  private unsubscribeNow(): void {
    const channels = this.released;
    this.released = undefined;
    // Lost meanwhile (the next connection subscribes only what is still wanted), or shutting down.
    if (!channels || this.outage || this.closing) return;
    this.subscriber
      .unsubscribe(...channels)
      .catch((error: Error) => this.logger.warn(`unsubscribe failed: ${error.message}`));
  }

  /**
   * Subscribes `channel` with the others acquired in this turn of the event loop, or, while a
   * SUBSCRIBE is in flight, with the others acquired until it is answered.
   */
  private subscribeSoon(channel: string): Promise<void> {
    if (!this.batch) {
      this.batch = { channels: [], subscribed: deferred() };
      if (!this.inFlight) setImmediate(() => this.subscribeNow());
    }
    this.batch.channels.push(channel);
    return this.batch.subscribed.promise;
  }

  /** Sends the waiting SUBSCRIBE, if any. */
  private subscribeNow(): void {
    const batch = this.batch;
    if (!batch) return;
    this.batch = undefined;
    // Lost meanwhile: the connection subscribes every wanted channel once it is ready again.
    if (this.outage) return batch.subscribed.resolve();
    // Released before these were acquired: a channel among them must be unsubscribed first.
    this.unsubscribeNow();
    const sent = this.subscriber.subscribe(...batch.channels).then(
      () => batch.subscribed.resolve(),
      (error: Error) => batch.subscribed.reject(error),
    );
    this.inFlight = sent;
    void sent.finally(() => {
      if (this.inFlight !== sent) return; // a release sent a later one meanwhile
      this.inFlight = undefined;
      if (this.batch) setImmediate(() => this.subscribeNow());
    });
  }

  private onConnectionLost(): void {
    if (this.closing || this.outage) return;
    this.lostConnections += 1;
    this.outage = deferred();
    // Whatever waits for an answer that may never come is subscribed once the connection is ready.
    this.inFlight = undefined;
    this.subscribeNow();
    this.logger.warn(`lost the channel connection (${this.subscriptions.size} users subscribed)`);
  }

  private onConnectionReady(): void {
    const outage = this.outage;
    if (!outage) return;
    this.outage = undefined;
    const again = this.connectedOnce;
    this.connectedOnce = true;
    const channels = [...this.subscriptions.keys()].map((userId) =>
      this.keys.keyOf(userId, 'channel'),
    );
    const subscribed =
      channels.length > 0 ? this.subscriber.subscribe(...channels) : Promise.resolve();
    subscribed
      .then(
        () => again && this.logger.log(`subscribed ${channels.length} user channels again`),
        (error: Error) => this.logger.error(`subscribing failed: ${error.message}`),
      )
      .finally(() => {
        outage.resolve();
        if (again) for (const listener of this.resubscribedListeners) listener();
      });
  }

  private dispatch(channel: string, raw: string): void {
    const userId = this.keys.userOfChannel(channel);
    const message = userId === undefined ? undefined : decodeChannelMessage(userId, raw);
    if (!message) return;
    for (const listener of this.listeners) listener(message);
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }
}
