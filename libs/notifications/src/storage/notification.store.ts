import type { InboxPage, ReadEventData } from '@rtnotify/protocol';
import type { SerializedFrame } from './serialized-frame.js';

export interface AppendRequest {
  userId: string;
  type: string;
  /** The payload, already serialized as JSON. */
  payloadJson: string;
  /** Stored once per user: a second append with the same key returns the first id. */
  dedupeKey: string;
  /** When the producer enqueued it (epoch ms), for the enqueue-to-push latency. */
  enqueuedAt?: number;
}

export interface AppendResult {
  userId: string;
  id: string;
  /** False when the dedupe key was already stored: nothing new was stored or published. */
  stored: boolean;
  unread: number;
}

export interface ReplayResult {
  /** Serialized notifications newer than `since`, oldest first (empty when truncated). */
  frames: SerializedFrame<'notification'>[];
  unread: number;
  /**
   * Where the snapshot stands: the id to resume from (`since`) for a client that has seen nothing
   * newer. Also for an empty history (its sequence is then 0).
   */
  cursor: string;
  /**
   * The user's history epoch ('' when there is none yet) and the version of its channel at the time
   * of the snapshot: channel messages up to that version are already covered by it.
   */
  head: { epoch: string; version: number };
  /** The server cannot prove the client missed nothing: it must refetch the inbox. */
  truncated: boolean;
}

/**
 * The durable per-user history: store, count and publish as one atomic step per user, replay after
 * an id, page the inbox and mark read. Bound to Redis by `RedisNotificationStore`; another backend or a
 * test double can stand in for it.
 */
export abstract class NotificationStore {
  abstract append(requests: AppendRequest[]): Promise<AppendResult[]>;
  abstract replay(userId: string, since: string | undefined): Promise<ReplayResult>;
  abstract list(userId: string, page: { limit: number; before?: string }): Promise<InboxPage>;
  /** Marks read; when the count changed, every socket of the user is sent the new count. */
  abstract markRead(
    userId: string,
    selection: ReadEventData,
  ): Promise<{ unread: number; changed: boolean }>;
  abstract unreadCount(userId: string): Promise<number>;
  /** Resolves when the backend answers; rejects while it is unreachable. */
  abstract ping(): Promise<void>;
}
