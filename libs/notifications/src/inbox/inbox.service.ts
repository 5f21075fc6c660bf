import { Injectable } from '@nestjs/common';
import type { InboxPage, ReadEventData } from '@rtnotify/protocol';
import { NotificationStore } from '../storage/notification.store.js';

/** A user's inbox: the same history the sockets replay from, paged newest first. */
@Injectable()
export class InboxService {
  constructor(private readonly store: NotificationStore) {}

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
