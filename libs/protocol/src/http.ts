import type { Notification } from './notification.js';

/** `GET /v1/me/notifications`: one page of the user's inbox, newest first. */
export interface InboxPage {
  items: Notification[];
  unread: number;
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
