import type { InboxNotification } from './protocol-v1_1.js';

/** A notification as a client sees it (protocol 1.1's notification object). */
export type StoredNotification = InboxNotification;

/** What a producer asks for: everything but the recipient. */
export interface NotificationInput {
  /** `[a-z0-9._-]`, 1–64 chars, e.g. `comment.created`. */
  type: string;
  /** Any JSON object, at most 16 KiB serialized. */
  payload?: Record<string, unknown>;
  /** The same key for the same user is stored and delivered once (within the retained history). */
  dedupeKey?: string;
  /** `[a-z0-9._-]`, 1–64 chars: the inbox counts and filters by it. */
  category?: string;
  /**
   * At most 128 chars: replaces the user's unread, unarchived notification with the same key, which
   * it then counts (`collapsedCount`) instead of adding to the counts.
   */
  collapseKey?: string;
  /** When it leaves the inbox by itself; must be in the future. A `Date` or ISO 8601 with a zone. */
  expiresAt?: string | Date;
}

/** Data of a `notify` job: exactly one of `userId` / `userIds`. */
export interface NotifyJobData extends NotificationInput {
  userId?: string;
  userIds?: string[];
  /** ISO 8601 with a zone, e.g. `2030-01-31T12:00:00Z`. */
  expiresAt?: string;
}

/** Which notifications to mark read. */
export type ReadSelection = { ids: string[] } | { all: true };
