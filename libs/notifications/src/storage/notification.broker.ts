import type { SerializedFrame } from './serialized-frame.js';

/** The server events the store's scripts publish on a user's channel. */
export type ChannelEvent = 'notification' | 'unread' | 'marked' | 'removed';

/** A message published on a user's channel: the frame to send and where it stands in the history. */
export interface ChannelMessage {
  userId: string;
  /** The history epoch it belongs to. */
  epoch: string;
  /** Counts the messages of the user's channel within the epoch. */
  version: number;
  /** The notification id, for `notification` frames. */
  id?: string;
  /** When its job was enqueued (epoch ms; 0 when unknown). */
  enqueuedAt: number;
  frame: SerializedFrame<ChannelEvent>;
}

export type ChannelListener = (message: ChannelMessage) => void;

/**
 * Carries the messages the store publishes on a user's channel to this instance, for exactly the
 * users that have a socket here. `acquire` and `release` are counted per socket.
 */
export abstract class NotificationBroker {
  /** Resolves once this instance receives the user's messages. */
  abstract acquire(userId: string): Promise<void>;
  abstract release(userId: string): void;
  abstract onMessage(listener: ChannelListener): void;
  /**
   * Called after the connection to the channels was lost and every channel subscribed again:
   * messages may have been missed in between by sockets that were live before `generation` grew.
   * With `userIds`, only the channels of those users were lost (one shard of a cluster, say).
   */
  abstract onResubscribed(listener: (userIds?: readonly string[]) => void): void;
  /** Grows each time the connection to the channels is lost. */
  abstract get generation(): number;
  /** Users this instance is subscribed for. */
  abstract get subscribedUsers(): number;
  /** Subscribed user channels by the shard that carries them, on a cluster; undefined otherwise. */
  subscriptionsByShard(): ReadonlyMap<string, number> | undefined {
    return undefined;
  }
}
