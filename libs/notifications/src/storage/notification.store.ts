import type {
  Notification,
  InboxPage,
  InboxStatus,
  MarkEventData,
  NotificationCounts,
  ReadEventData,
} from '@rtnotify/protocol';
import type { SerializedFrame } from './serialized-frame.js';
import { asError } from '../utils/as-error.util.js';

export interface AppendRequest {
  userId: string;
  type: string;
  /** The payload, already serialized as JSON. */
  payloadJson: string;
  /** Stored once per user: a second append with the same key returns the first id. */
  dedupeKey: string;
  /** When the producer enqueued it (epoch ms), for the enqueue-to-push latency. */
  enqueuedAt?: number;
  /** `[a-z0-9._-]`, 1–64 chars. */
  category?: string;
  /** Replaces the user's unread, unarchived notification with the same key. */
  collapseKey?: string;
  /** When it leaves the history (ISO 8601 as `Date.toISOString()` writes it). */
  expiresAt?: string;
  /** Ignores the user's preferences. */
  critical?: boolean;
  /** A fallback is due this long after the store, unless it is read by then. */
  fallbackDelayMs?: number;
  /** A fallback is due at once when the user has no live presence entry at the store. */
  fallbackWhenOffline?: boolean;
}

export interface AppendResult {
  userId: string;
  id: string;
  /** False when the dedupe key was already stored: nothing new was stored or published. */
  stored: boolean;
  unread: number;
  /** The id of the notification this one replaced (collapse). */
  replaced?: string;
  /** Not stored: the user turned its category off in-app (`id` is then ''). */
  suppressed?: boolean;
  /** When its fallback check is due (epoch ms), also for a duplicate: the check is to be scheduled. */
  fallbackDueAt?: number;
}

/** A dedupe key stored for a user (see `NotificationStore.releaseDedupeKeys`). */
export interface DedupeKeyEntry {
  userId: string;
  dedupeKey: string;
}

/** What the fallback check of a notification found (see `NotificationStore.claimFallback`). */
export type FallbackClaim =
  { kind: 'none' } | { kind: 'wait'; dueAt: number } | { kind: 'send'; notification: Notification };

export interface ReplayResult {
  /** Serialized notifications newer than `since`, oldest first (empty when truncated). */
  frames: SerializedFrame<'notification'>[];
  unread: number;
  counts: NotificationCounts;
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

export interface InboxQuery {
  /** Page size. */
  limit: number;
  /** The `nextCursor` of the previous page. */
  before?: string;
  /** @default 'inbox' (everything not archived) */
  status?: InboxStatus;
  category?: string;
}

export interface MarkResult {
  /** The ids whose state changed (none for a selection of `all`). */
  ids: string[];
  /** How many notifications changed state. */
  changed: number;
  counts: NotificationCounts;
  /** The unread count before (v1's `unread` event goes out only when it changed). */
  unreadBefore: number;
}

/**
 * The durable per-user history: store, count and publish as one atomic step per user, replay after
 * an id, page the inbox, mark states and expire. Bound to Redis by `RedisNotificationStore`; another
 * backend or a test double can stand in for it.
 */
export abstract class NotificationStore {
  abstract append(requests: AppendRequest[]): Promise<AppendResult[]>;
  /**
   * Appends independent groups of requests (e.g. the jobs a worker has in flight) together, in one
   * round trip where the backend can; each group succeeds or fails alone: its results, or the error
   * of its first failed request. The default appends each group by itself.
   */
  appendGroups(groups: AppendRequest[][]): Promise<(AppendResult[] | Error)[]> {
    return Promise.all(groups.map((group) => this.append(group).catch(asError)));
  }
  abstract replay(userId: string, since: string | undefined): Promise<ReplayResult>;
  abstract list(userId: string, query: InboxQuery): Promise<InboxPage>;
  /**
   * Sets or clears a state; when anything changed, every socket of the user is sent `marked` (and
   * v1's `unread` when that count changed).
   */
  abstract mark(userId: string, selection: MarkEventData): Promise<MarkResult>;
  abstract counts(userId: string): Promise<NotificationCounts>;
  /**
   * The fallback check of a stored notification, atomically: `send` when its fallback is due and it
   * is still unread (not archived, collapsed, expired or trimmed) and not muted by the user's
   * fallback preference (unless critical), or when an earlier check claimed it; the caller adds the
   * `fallback` job idempotently, then calls `settleFallback`. `none` otherwise (settled for good).
   */
  abstract claimFallback(userId: string, id: string): Promise<FallbackClaim>;
  /** Records that the claimed fallback's job was added: later checks find nothing to do. */
  abstract settleFallback(userId: string, id: string): Promise<void>;
  /**
   * Forgets dedupe keys no retry can need any more (those of a completed job's attempt): each is
   * removed from its user's dedupe index, so a later append with it would store again. The
   * notifications stay. A key that is not in the index is ignored.
   */
  abstract releaseDedupeKeys(entries: DedupeKeyEntry[]): Promise<void>;
  /**
   * Removes the notifications whose `expiresAt` has passed, for (a batch of) the users that have any
   * due, and tells their sockets (`removed`). `more` says whether other users are due already.
   */
  abstract sweepExpired(): Promise<{ removed: number; more: boolean }>;
  /**
   * Resolves when the backend answers (with details for a health report, such as a cluster's
   * state); rejects while it is unreachable or unhealthy.
   */
  abstract ping(): Promise<Record<string, string | number> | void>;

  /**
   * v1's read: marks read (and seen). `changed` says whether the unread count changed, in which case
   * every socket of the user was sent it.
   */
  async markRead(
    userId: string,
    selection: ReadEventData,
  ): Promise<{ unread: number; changed: boolean }> {
    const result = await this.mark(userId, { as: 'read', ...selection });
    return { unread: result.counts.unread, changed: result.counts.unread !== result.unreadBefore };
  }

  async unreadCount(userId: string): Promise<number> {
    return (await this.counts(userId)).unread;
  }
}
