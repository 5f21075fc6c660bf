/** A notification as a client sees it (wire protocol v1). */
export interface StoredNotification {
  /** Opaque, unique per user, ordered by store order within one history epoch. */
  id: string;
  type: string;
  payload: Record<string, unknown>;
  /** ISO 8601 time at which it was stored. */
  createdAt: string;
  read: boolean;
}

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
