/*
 * Wire protocol 1.1 (DESIGN.md, "Protocol 1.1"): additive to v1, so a v1 client keeps working. Types
 * and constants only, no imports: the server and the client SDK share this one file.
 */

/** The states a `mark` sets or clears. */
export const MARK_AS = ['read', 'unread', 'seen', 'archived', 'unarchived'] as const;
export type MarkAs = (typeof MARK_AS)[number];

/**
 * Listing filters: `inbox` (the default) is everything not archived; `unread`, `unseen` and `read`
 * are within it; `archived` is the archived ones; `all` is everything.
 */
export const INBOX_STATUSES = ['inbox', 'unread', 'unseen', 'read', 'archived', 'all'] as const;
export type InboxStatus = (typeof INBOX_STATUSES)[number];

/** Why notifications left the history without anyone archiving them. */
export type RemovedReason = 'expired' | 'collapsed';

/** A notification as a client sees it. */
export interface InboxNotification<P extends object = Record<string, unknown>> {
  /** Opaque, unique per user, ordered by store order within one history epoch. */
  id: string;
  /** E.g. `comment.created`. */
  type: string;
  /** `[a-z0-9._-]`, 1–64 chars; absent when the producer gave none. */
  category?: string;
  payload: P;
  /** ISO 8601 time at which it was stored. */
  createdAt: string;
  read: boolean;
  seen: boolean;
  archived: boolean;
  /** ISO 8601 time after which it leaves the history (and a `removed` event says so). */
  expiresAt?: string;
  /** The producer's collapse key, when it gave one. */
  collapseKey?: string;
  /** How many notifications this one stands for, when it replaced others (≥ 2). */
  collapsedCount?: number;
  /** The id of the notification it replaced. */
  replaces?: string;
}

export interface CategoryCounts {
  unread: number;
  unseen: number;
}

/**
 * Counts over the notifications that are not archived: in total, and per category for those that
 * have one (a category with nothing unread or unseen is absent).
 */
export interface NotificationCounts extends CategoryCounts {
  categories: Record<string, CategoryCounts>;
}

/** The data of a `mark` frame, and the body of `POST /v1/me/notifications/mark`. */
export type MarkSelection =
  | { as: MarkAs; ids: string[] }
  | {
      as: MarkAs;
      all: true;
      /** Only the notifications of this category. */
      category?: string;
      /** Only those already read (to "archive all read"). */
      onlyRead?: boolean;
    };

/** `ready`: v1's fields, and the counts. */
export interface ReadyEventData {
  userId: string;
  unread: number;
  replayed: number;
  truncated: boolean;
  cursor: string;
  counts: NotificationCounts;
}

/** `notification`: v1's fields, and the counts once it was stored. */
export interface NotificationEventData {
  notification: InboxNotification;
  unread: number;
  counts: NotificationCounts;
}

/**
 * `marked`, to every socket of the user: the ids whose state changed, or `all` with the filter that
 * was applied, and the counts after it.
 */
export type MarkedEventData =
  | { as: MarkAs; ids: string[]; counts: NotificationCounts }
  | { as: MarkAs; all: true; category?: string; onlyRead?: boolean; counts: NotificationCounts };

/** `removed`: notifications left the history (expired, or replaced by a collapse). */
export interface RemovedEventData {
  ids: string[];
  reason: RemovedReason;
  counts: NotificationCounts;
}

/** The answer of `GET /v1/me/notifications`. */
export interface InboxPageData {
  items: InboxNotification[];
  /** The v1 count, the same as `counts.unread`. */
  unread: number;
  counts: NotificationCounts;
  /** Pass as `before` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}
