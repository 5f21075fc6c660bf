/** A message published on a user's channel: the frame to send and where it stands in the history. */
export interface ChannelMessage {
  userId: string;
  /** The history epoch it belongs to. */
  epoch: string;
  /** Counts the messages of the user's channel within the epoch. */
  version: number;
  /** The notification id, for `notification` frames. */
  id?: string;
  frame: string;
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
  /** Users this instance is subscribed for. */
  abstract get subscribedUsers(): number;
}
