import { Injectable } from '@nestjs/common';
import { CloseCode, type MarkEventData, type ReadEventData } from '@rtnotify/protocol';
import { InboxService } from '../inbox/inbox.service.js';
import { NotificationsMetrics } from '../notifications.metrics.js';
import { NotificationsSettings } from '../notifications.settings.js';
import { NotificationBroker, type ChannelMessage } from '../storage/notification.broker.js';
import type { MarkResult } from '../storage/notification.store.js';
import { WriteBatch, type ClientConnection, type StreamBreak } from './client-connection.js';
import { ConnectionRegistry } from './connection.registry.js';
import { GatewayPresence } from './gateway-presence.js';

/**
 * The inbox as the gateway's sockets see it: registers a user's sockets on this instance, replays
 * what a socket missed, then forwards the user's channel to every socket of the user, and marks
 * read (v1) or sets states (1.1). The gateway talks to it alone about notifications.
 */
@Injectable()
export class LiveInboxService {
  constructor(
    private readonly inbox: InboxService,
    private readonly broker: NotificationBroker,
    private readonly registry: ConnectionRegistry<ClientConnection>,
    private readonly settings: NotificationsSettings,
    private readonly metrics: NotificationsMetrics,
    private readonly presence: GatewayPresence,
  ) {
    broker.onMessage((message) => this.deliver(message));
    broker.onResubscribed((userIds) => this.resumeInterrupted(userIds));
  }

  /**
   * Registers an authenticated socket (its user is present from then on); false when its user has
   * `maxSocketsPerUser` here already.
   */
  register(connection: ClientConnection): boolean {
    if (!this.registry.add(connection, this.settings.limits.maxSocketsPerUser)) return false;
    this.presence.joined(connection.userId);
    return true;
  }

  /**
   * Subscribes the socket to its user's channel, replays what it missed since `since`, sends
   * `ready`, and makes it live: from then on it gets the user's channel. The replay and `ready` are
   * written together through `batch` (of the socket's TCP stream), not one system call per frame,
   * along with what it held already (the handshake's `101`, see HandshakeHolds); `open` ends it.
   */
  async open(
    connection: ClientConnection,
    since: string | undefined,
    batch = new WriteBatch(undefined),
  ): Promise<void> {
    const { userId } = connection;
    connection.subscribed = true;
    await this.broker.acquire(userId);
    // From here on, a lost channel connection may take messages that come after the snapshot: the
    // socket then resumes (resumeInterrupted). Lost before, it missed nothing: the snapshot is taken
    // on the channel subscribed again.
    connection.generation = this.broker.generation;
    const snapshot = await this.inbox.replay(userId, since);
    if (!connection.isOpen) return;
    // The handshake's hold may be gone (a slow connect): a replay is held again; `ready` alone is
    // one write anyway.
    if (snapshot.frames.length > 0) batch.hold();
    let broken: StreamBreak | undefined;
    try {
      for (const frame of snapshot.frames) {
        connection.send(frame);
        batch.sent(frame.length);
      }
      connection.send('ready', {
        userId,
        unread: snapshot.unread,
        replayed: snapshot.frames.length,
        truncated: snapshot.truncated,
        cursor: snapshot.cursor,
        counts: snapshot.counts,
      });
      // What came during the replay (a round trip's worth) goes in the same batch, uncounted.
      broken = connection.goLive(snapshot.head);
    } finally {
      batch.end();
    }
    if (broken) this.resume(connection, broken);
  }

  /**
   * Forgets a closed socket: unregisters it (its user's last one here: no longer present here) and
   * gives up its share of the channel.
   */
  close(connection: ClientConnection): void {
    if (this.registry.remove(connection)) this.presence.left(connection.userId);
    if (connection.subscribed) {
      connection.subscribed = false;
      this.broker.release(connection.userId);
    }
  }

  /** Marks read for the socket's user; when the count changed, the channel tells every socket. */
  markRead(
    connection: ClientConnection,
    selection: ReadEventData,
  ): Promise<{ unread: number; changed: boolean }> {
    return this.inbox.markRead(connection.userId, selection);
  }

  /**
   * Sets or clears a state for the socket's user (protocol 1.1 `mark`); when anything changed, the
   * channel tells every socket (`marked`, and `unread` when that count moved).
   */
  mark(connection: ClientConnection, selection: MarkEventData): Promise<MarkResult> {
    return this.inbox.mark(connection.userId, selection);
  }

  /** Every registered socket on this instance. */
  connections(): IterableIterator<ClientConnection> {
    return this.registry.all();
  }

  private deliver(message: ChannelMessage): void {
    this.registry.forEachOf(message.userId, (connection) => {
      const broken = connection.offer(message);
      if (broken) this.resume(connection, broken);
    });
    if (message.id !== undefined && message.enqueuedAt > 0) {
      this.metrics.pushLatency.observe((Date.now() - message.enqueuedAt) / 1000);
    }
  }

  /**
   * The channels (of `userIds` only, when given) were lost for a while: sockets live before that may
   * have missed messages.
   */
  private resumeInterrupted(userIds?: readonly string[]): void {
    const generation = this.broker.generation;
    const affected = userIds
      ? userIds.flatMap((userId) => [...this.registry.connectionsOf(userId)])
      : this.registry.all();
    for (const connection of affected) {
      // A socket whose snapshot is not asked for yet will take it on the channel as it is now.
      if (connection.generation !== undefined && connection.generation < generation) {
        this.resume(connection, 'stream interrupted');
      }
    }
  }

  /**
   * The socket's stream cannot go on: the client resumes from its last id (told `truncated` after
   * a history reset; replayed what it missed after a lost message).
   */
  private resume(connection: ClientConnection, why: StreamBreak): void {
    // Closing already (its channel connection was lost, say): the gap is the reason it closes.
    if (!connection.isOpen) return;
    // Counted when nothing else explains the gap: a socket older than the channel connection
    // (which lost what was published while it was down) is told to resume anyway.
    if (why === 'stream interrupted' && connection.generation === this.broker.generation) {
      this.metrics.streamBreaks.inc();
    }
    connection.close(CloseCode.InternalError, `${why}: resume with since`);
  }
}
