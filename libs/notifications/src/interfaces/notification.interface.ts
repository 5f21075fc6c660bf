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
}

/** Data of a `notify` job: exactly one of `userId` / `userIds`. */
export interface NotifyJobData extends NotificationInput {
  userId?: string;
  userIds?: string[];
}

/** Which notifications to mark read. */
export type ReadSelection = { ids: string[] } | { all: true };
