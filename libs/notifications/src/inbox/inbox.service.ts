import { Injectable } from '@nestjs/common';
import type { InboxPage, ReadEventData } from '@rtnotify/protocol';
import { NotificationStore, type ReplayResult } from '../storage/notification.store.js';

/**
 * A user's inbox, in front of the store: paged newest first over HTTP, replayed to a socket that
 * resumes, marked read from either.
 */
@Injectable()
export class InboxService {
  constructor(private readonly store: NotificationStore) {}

  /**
   * What a socket missed since the notification id `since` (none: nothing to replay), with where the
   * user's history stands; `truncated` when the history cannot prove nothing was missed.
   */
  replay(userId: string, since: string | undefined): Promise<ReplayResult> {
    return this.store.replay(userId, since);
  }

  /** One page, newest first; `before` is the `nextCursor` of the previous page. */
  list(userId: string, page: { limit: number; before?: string }): Promise<InboxPage> {
    return this.store.list(userId, page);
  }

  /**
   * Marks notifications read (ids of other users, unknown or already read ones change nothing).
   * When the count changes, every socket of the user is sent `unread`.
   */
  markRead(
    userId: string,
    selection: ReadEventData,
  ): Promise<{ unread: number; changed: boolean }> {
    return this.store.markRead(userId, selection);
  }

  /** The user's unread count. */
  unreadCount(userId: string): Promise<number> {
    return this.store.unreadCount(userId);
  }
}
