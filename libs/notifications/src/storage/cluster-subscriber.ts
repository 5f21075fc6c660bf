import calculateSlot from 'cluster-key-slot';
import type { Cluster } from 'ioredis';
import { ShardConnection } from './cluster-shard-connection.js';

export interface ShardedSubscriberEvents {
  message(channel: string, payload: string): void;
  /** Channels that were subscribed and no longer are: their messages may be missed from now on. */
  lost(channels: string[]): void;
  /** Channels reported lost that are subscribed again (on whichever node serves them now). */
  restored(channels: string[]): void;
}

export interface ShardedSubscriberOptions {
  connectionName?: string;
  /** @default 5000 */
  pingIntervalMs?: number;
  /** @default 5000 */
  connectTimeoutMs?: number;
}

interface ChannelEntry {
  channel: string;
  slot: number;
  /** The node it is subscribed (or being subscribed) on. */
  node: string | undefined;
  active: boolean;
  /** It was active and then lost: whoever relied on it may have missed messages. */
  lost: boolean;
  waiters: (() => void)[];
}

const MIN_RETRY_MS = 50;
const MAX_RETRY_MS = 1000;

/**
 * Sharded pub/sub on a Redis Cluster: one connection per master that serves a subscribed channel,
 * each channel `SSUBSCRIBE`d on the master of its slot, as the cluster client's slot map says.
 *
 * It follows the cluster by itself: a channel whose node goes away (connection lost, a failover), is
 * unsubscribed by its node (its slot migrated) or is refused (`MOVED`, `CLUSTERDOWN`, `LOADING`) is
 * placed again after the slot map is refreshed, retrying with backoff until a node takes it. Channels
 * that were live and came back are reported `restored`, after `lost`, so that their users can be made
 * to resume what they may have missed in between.
 */
export class ShardedSubscriber {
  private readonly entries = new Map<string, ChannelEntry>();
  private readonly connections = new Map<string, ShardConnection>();
  private readonly unplaced = new Set<ChannelEntry>();
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = 0;
  private refreshing = false;
  private refreshAgain = false;
  private closed = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly events: ShardedSubscriberEvents,
    private readonly options: ShardedSubscriberOptions = {},
  ) {}

  /** Resolves once messages published on `channel` reach this subscriber. */
  subscribe(channel: string): Promise<void> {
    let entry = this.entries.get(channel);
    if (!entry) {
      entry = {
        channel,
        slot: calculateSlot(channel),
        node: undefined,
        active: false,
        lost: false,
        waiters: [],
      };
      this.entries.set(channel, entry);
      this.place(entry);
    }
    if (entry.active) return Promise.resolve();
    const waiting = entry;
    return new Promise((resolve) => waiting.waiters.push(resolve));
  }

  unsubscribe(channel: string): void {
    const entry = this.entries.get(channel);
    if (!entry) return;
    this.entries.delete(channel);
    this.unplaced.delete(entry);
    for (const resolve of entry.waiters.splice(0)) resolve();
    if (entry.node !== undefined) this.liveConnection(entry.node)?.sunsubscribe(channel);
  }

  /** Subscribed channels by the node (`host:port`) that carries them. */
  channelsByNode(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const entry of this.entries.values()) {
      if (entry.active && entry.node !== undefined) {
        counts.set(entry.node, (counts.get(entry.node) ?? 0) + 1);
      }
    }
    return counts;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    for (const connection of this.connections.values()) connection.close();
    this.connections.clear();
    for (const entry of this.entries.values()) for (const resolve of entry.waiters) resolve();
    this.entries.clear();
  }

  private place(entry: ChannelEntry): void {
    if (this.closed) return;
    const node = this.cluster.slots[entry.slot]?.[0];
    if (node === undefined) {
      this.unplaced.add(entry);
      this.scheduleRefresh();
      return;
    }
    this.subscribeOn(entry, node);
  }

  private subscribeOn(entry: ChannelEntry, node: string): void {
    entry.node = node;
    this.connectionTo(node).ssubscribe(entry.channel);
  }

  private liveConnection(node: string): ShardConnection | undefined {
    const connection = this.connections.get(node);
    return connection && !connection.isClosed ? connection : undefined;
  }

  private connectionTo(node: string): ShardConnection {
    const existing = this.liveConnection(node);
    if (existing) return existing;
    const redisOptions = this.cluster.options.redisOptions ?? {};
    const separator = node.lastIndexOf(':');
    const connection: ShardConnection = new ShardConnection(
      node,
      {
        host: node.slice(0, separator),
        port: Number(node.slice(separator + 1)),
        username: redisOptions.username,
        password: redisOptions.password,
        tls: redisOptions.tls,
        connectionName: this.options.connectionName,
        pingIntervalMs: this.options.pingIntervalMs ?? 5000,
        connectTimeoutMs: this.options.connectTimeoutMs ?? 5000,
      },
      {
        message: (channel, payload) => this.events.message(channel, payload),
        subscribed: (channel) => this.onSubscribed(connection, channel),
        refused: (channel, error) => this.onRefused(connection, channel, error),
        dropped: (channel) => this.onDropped(connection, channel),
        closed: () => this.onClosed(connection),
      },
    );
    this.connections.set(node, connection);
    return connection;
  }

  /** The entry of `channel` if it is (being) subscribed through `connection`. */
  private entryOn(connection: ShardConnection, channel: string): ChannelEntry | undefined {
    const entry = this.entries.get(channel);
    return entry &&
      entry.node === connection.address &&
      this.liveConnection(entry.node) === connection
      ? entry
      : undefined;
  }

  private onSubscribed(connection: ShardConnection, channel: string): void {
    const entry = this.entryOn(connection, channel);
    if (!entry) {
      // Released meanwhile, or placed elsewhere since: not wanted here.
      connection.sunsubscribe(channel);
      return;
    }
    entry.active = true;
    this.retryDelayMs = 0;
    for (const resolve of entry.waiters.splice(0)) resolve();
    if (!entry.lost) return;
    entry.lost = false;
    // NOTE: at once, before the next reply is parsed: a message that follows on the new
    // subscription must not reach a socket that may have missed an earlier one (it would move the
    // client's resume position past the gap); the owner closes those sockets now.
    this.events.restored([channel]);
  }

  private onRefused(connection: ShardConnection, channel: string, error: string): void {
    const entry = this.entryOn(connection, channel);
    if (!entry) return;
    entry.node = undefined;
    const moved = /^MOVED \d+ (\S+)$/.exec(error);
    if (moved && moved[1] !== connection.address) {
      // The slot moved: subscribe where the node says at once, and let the client learn the map.
      this.cluster.refreshSlotsCache();
      this.subscribeOn(entry, moved[1]);
      return;
    }
    this.unplaced.add(entry);
    this.scheduleRefresh();
  }

  private onDropped(connection: ShardConnection, channel: string): void {
    const entry = this.entryOn(connection, channel);
    if (!entry) return;
    entry.node = undefined;
    this.markLost([entry]);
    this.unplaced.add(entry);
    this.scheduleRefresh();
  }

  private onClosed(connection: ShardConnection): void {
    if (this.connections.get(connection.address) === connection) {
      this.connections.delete(connection.address);
    }
    if (this.closed) return;
    const affected = [...this.entries.values()].filter((e) => e.node === connection.address);
    for (const entry of affected) {
      entry.node = undefined;
      this.unplaced.add(entry);
    }
    this.markLost(affected);
    if (affected.length > 0) this.scheduleRefresh();
  }

  private markLost(entries: ChannelEntry[]): void {
    const lost = entries.filter((entry) => entry.active);
    for (const entry of lost) {
      entry.active = false;
      entry.lost = true;
    }
    if (lost.length > 0) this.events.lost(lost.map((entry) => entry.channel));
  }

  /** Refreshes the slot map, then places every unplaced channel; retries with backoff. */
  private scheduleRefresh(): void {
    if (this.closed) return;
    if (this.refreshing || this.retryTimer) {
      this.refreshAgain = true;
      return;
    }
    const delay = this.retryDelayMs;
    this.retryDelayMs = Math.min(MAX_RETRY_MS, Math.max(MIN_RETRY_MS, this.retryDelayMs * 2));
    this.retryTimer = setTimeout(() => this.refresh(), delay);
    this.retryTimer.unref();
  }

  private refresh(): void {
    this.retryTimer = undefined;
    this.refreshing = true;
    this.refreshAgain = false;
    this.cluster.refreshSlotsCache(() => {
      this.refreshing = false;
      if (this.closed) return;
      const waiting = [...this.unplaced];
      this.unplaced.clear();
      for (const entry of waiting) {
        if (this.entries.get(entry.channel) === entry && entry.node === undefined)
          this.place(entry);
      }
      if (this.refreshAgain || this.unplaced.size > 0) this.scheduleRefresh();
    });
  }
}
