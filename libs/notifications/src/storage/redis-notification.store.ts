import { Injectable } from '@nestjs/common';
import type { Redis, Result } from 'ioredis';
import {
  parseNotificationId,
  type InboxPage,
  type Notification,
  type ReadEventData,
} from '@rtnotify/protocol';
import {
  NotificationStore,
  type AppendRequest,
  type AppendResult,
  type ReplayResult,
} from './notification.store.js';
import { NotificationsSettings } from '../notifications.settings.js';
import { newEpoch } from '../utils/epoch.util.js';
import { APPEND_SCRIPT, LIST_SCRIPT, MARK_READ_SCRIPT, REPLAY_SCRIPT } from './lua-scripts.js';
import { NotificationsRedis } from './notifications-redis.js';
import { RedisKeys } from './redis-keys.js';
import { serializedFrame } from './serialized-frame.js';

type Arg = string | number;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    notifAppend(...args: Arg[]): Result<[number, string, number], Context>;
    notifReplay(
      ...args: Arg[]
    ): Result<[string, number, number, number, number, string[], number[]], Context>;
    notifList(...args: Arg[]): Result<[number, string[], number[], number], Context>;
    notifMarkRead(...args: Arg[]): Result<[number, number], Context>;
  }
}

/** Appends ` "read": … ` to a stored notification's JSON without decoding it. */
function withReadFlag(member: string, read: number): string {
  return `${member.slice(0, -1)},"read":${read === 1 ? 'true' : 'false'}}`;
}

@Injectable()
export class RedisNotificationStore extends NotificationStore {
  private readonly keys: RedisKeys;
  private readonly redis: Redis;

  constructor(
    connection: NotificationsRedis,
    private readonly settings: NotificationsSettings,
  ) {
    super();
    this.redis = connection.client;
    this.keys = new RedisKeys(settings.keyPrefix);
    this.redis.defineCommand('notifAppend', { numberOfKeys: 5, lua: APPEND_SCRIPT });
    this.redis.defineCommand('notifReplay', { numberOfKeys: 3, lua: REPLAY_SCRIPT });
    this.redis.defineCommand('notifList', { numberOfKeys: 3, lua: LIST_SCRIPT });
    this.redis.defineCommand('notifMarkRead', { numberOfKeys: 2, lua: MARK_READ_SCRIPT });
  }

  async append(requests: AppendRequest[]): Promise<AppendResult[]> {
    if (requests.length === 0) return [];
    const createdAt = new Date().toISOString();
    const maxAge = this.settings.historyMaxAgeSeconds;
    const cutoff = maxAge > 0 ? new Date(Date.now() - maxAge * 1000).toISOString() : '';
    const pipeline = this.redis.pipeline();
    for (const request of requests) {
      const k = this.keys.forUser(request.userId);
      pipeline.notifAppend(
        k.history,
        k.unread,
        k.meta,
        k.dedupe,
        k.dedupeBySeq,
        k.channel,
        request.type,
        request.payloadJson,
        request.dedupeKey,
        createdAt,
        this.settings.historyLimit,
        cutoff,
        newEpoch(),
        maxAge,
        request.enqueuedAt ?? 0,
      );
    }
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([error, reply], index) => {
      if (error) throw error;
      const [stored, id, unread] = reply as [number, string, number];
      return { userId: requests[index].userId, id, stored: stored === 1, unread };
    });
  }

  async replay(userId: string, since: string | undefined): Promise<ReplayResult> {
    const k = this.keys.forUser(userId);
    let sinceEpoch = '';
    let sinceSeq = 0;
    if (since !== undefined) {
      const parsed = parseNotificationId(since);
      // An id we could never have issued cannot prove anything: treat it as from a lost history.
      sinceEpoch = parsed?.epoch ?? '?';
      sinceSeq = parsed?.seq ?? 0;
    }
    const [epoch, seq, version, unread, truncated, members, flags] = await this.redis.notifReplay(
      k.history,
      k.unread,
      k.meta,
      sinceEpoch,
      sinceSeq,
      newEpoch(),
      this.settings.historyMaxAgeSeconds,
    );
    return {
      frames: members.map((member, i) =>
        serializedFrame<'notification'>(
          `{"event":"notification","data":{"notification":${withReadFlag(member, flags[i])},"unread":${unread}}}`,
        ),
      ),
      unread,
      cursor: `${epoch}-${seq}`,
      head: { epoch, version: Number(version) },
      truncated: truncated === 1,
    };
  }

  async list(userId: string, page: { limit: number; before?: string }): Promise<InboxPage> {
    const k = this.keys.forUser(userId);
    const before = page.before === undefined ? undefined : parseNotificationId(page.before);
    if (page.before !== undefined && !before) {
      return { items: [], unread: await this.unreadCount(userId), nextCursor: null };
    }
    const [unread, members, flags, hasMore] = await this.redis.notifList(
      k.history,
      k.unread,
      k.meta,
      before?.epoch ?? '',
      before?.seq ?? 0,
      page.limit,
    );
    const items = members.map(
      (member, i) => JSON.parse(withReadFlag(member, flags[i])) as Notification,
    );
    return {
      items,
      unread,
      nextCursor: hasMore === 1 && items.length > 0 ? items[items.length - 1].id : null,
    };
  }

  async markRead(
    userId: string,
    selection: ReadEventData,
  ): Promise<{ unread: number; changed: boolean }> {
    const k = this.keys.forUser(userId);
    const args = 'ids' in selection ? ['ids', ...selection.ids] : ['all'];
    const [removed, unread] = await this.redis.notifMarkRead(k.unread, k.meta, k.channel, ...args);
    return { unread, changed: removed > 0 };
  }

  unreadCount(userId: string): Promise<number> {
    return this.redis.zcard(this.keys.forUser(userId).unread);
  }

  async ping(): Promise<void> {
    if (this.redis.status !== 'ready') throw new Error(`redis ${this.redis.status}`);
    await this.redis.ping();
  }
}
