/*
 * Protocol 1.1: the states of a notification, the counts, and what a `mark` selects. Additive to v1,
 * so a v1 client keeps working.
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

/** Unread and unseen, over the notifications that are not archived. */
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
