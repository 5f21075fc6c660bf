import { Injectable } from '@nestjs/common';
import type {
  InboxPage,
  MarkEventData,
  NotificationCounts,
  ReadEventData,
} from '@rtnotify/protocol';
import {
  NotificationStore,
  type InboxQuery,
  type MarkResult,
  type ReplayResult,
} from '../storage/notification.store.js';

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

  /**
   * One page, newest first; `before` is the `nextCursor` of the previous page. `status` defaults to
   * `inbox` (everything not archived).
   */
  list(userId: string, query: InboxQuery): Promise<InboxPage> {
    return this.store.list(userId, query);
  }

  /**
   * Sets or clears a state of the given ids, or of all (the inbox, or the archived ones for
   * `unarchived`), optionally of one category or only the read ones. Ids of other users, unknown
   * ids and those already in that state change nothing. When anything changes, every socket of the
   * user is sent `marked` (and `unread` when that count changed).
   */
  mark(userId: string, selection: MarkEventData): Promise<MarkResult> {
    return this.store.mark(userId, selection);
  }

  /**
   * v1: marks notifications read (ids of other users, unknown or already read ones change nothing).
   * When the count changes, every socket of the user is sent `unread`.
   */
  markRead(
    userId: string,
    selection: ReadEventData,
  ): Promise<{ unread: number; changed: boolean }> {
    return this.store.markRead(userId, selection);
  }

  /** Unread and unseen, in total and per category, over what is not archived. */
  counts(userId: string): Promise<NotificationCounts> {
    return this.store.counts(userId);
  }

  /** The user's unread count. */
  unreadCount(userId: string): Promise<number> {
    return this.store.unreadCount(userId);
  }
}
