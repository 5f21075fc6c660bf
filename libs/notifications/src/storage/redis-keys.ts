import { USER_KEY_ORDER } from './lua-scripts.js';

/** The keys of one user's data; see lua-scripts.ts for what each holds. */
export interface UserKeys {
  /** ZSET seq → stored notification JSON. */
  history: string;
  /** ZSET seq → id of each notification unread and not archived. */
  unread: string;
  /** HASH: `epoch`, `seq`, `v`, `t`, `ne`. */
  meta: string;
  /** HASH dedupe key → id. */
  dedupe: string;
  /** ZSET seq → dedupe key, to forget keys of trimmed notifications. */
  dedupeBySeq: string;
  /** ZSET seq → id of each notification unseen and not archived. */
  unseen: string;
  /** ZSET seq → id of each archived notification. */
  archived: string;
  /** ZSET seq → `seq|bits|expires|category|collapseKey` of the notifications that need it. */
  itemMeta: string;
  /** HASH `u:<category>` / `n:<category>` → count. */
  categoryCounts: string;
  /** ZSET expiresAt (ms) → seq. */
  expiry: string;
  /** ZSET collapse key → seq of the newest notification with it. */
  collapse: string;
  /** Pub/sub channel of the user's frames. */
  channel: string;
  /** Every key above but the channel, in the order the scripts take them as KEYS. */
  all: string[];
}

/**
 * Every key of one user shares the hash tag `{userId}`, so one script can touch them all, also on a
 * Redis Cluster.
 */
export class RedisKeys {
  constructor(private readonly prefix: string) {}

  forUser(userId: string): UserKeys {
    const base = `${this.prefix}:{${userId}}:`;
    // The suffixes are the names the scripts give the keys.
    const all = USER_KEY_ORDER.map((name) => base + name);
    return {
      history: `${base}h`,
      unread: `${base}u`,
      meta: `${base}m`,
      dedupe: `${base}d`,
      dedupeBySeq: `${base}dz`,
      unseen: `${base}n`,
      archived: `${base}a`,
      itemMeta: `${base}f`,
      categoryCounts: `${base}c`,
      expiry: `${base}e`,
      collapse: `${base}cz`,
      channel: `${base}ch`,
      all,
    };
  }

  /** ZSET userId → when something of that user is due to expire (ms): the sweeper's work list. */
  get expiring(): string {
    return `${this.prefix}:expiring`;
  }

  userOfChannel(channel: string): string | undefined {
    const head = `${this.prefix}:{`;
    const tail = '}:ch';
    if (!channel.startsWith(head) || !channel.endsWith(tail)) return undefined;
    return channel.slice(head.length, -tail.length);
  }
}
