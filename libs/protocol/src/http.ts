import type { NotificationCounts } from './inbox.js';
import type { Notification } from './notification.js';

/**
 * `GET /v1/me/notifications`: one page of the user's inbox, newest first (protocol 1.1: filtered by
 * `status` and `category`; by default everything not archived).
 */
export interface InboxPage {
  items: Notification[];
  /** The v1 count, the same as `counts.unread`. */
  unread: number;
  /** Protocol 1.1: unread and unseen, in total and per category. */
  counts: NotificationCounts;
  /** Pass as `before` for the next page; `null` on the last page. */
  nextCursor: string | null;
}

/** `POST /v1/me/notifications/read`: the unread count after the read. */
export interface UnreadCount {
  unread: number;
}

/** `POST /v1/notifications` (202): the job that carries the notification. */
export interface PublishResult {
  jobId: string;
}
