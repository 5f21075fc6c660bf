export interface UserKeys {
  /** ZSET seq → stored notification JSON. */
  history: string;
  /** ZSET seq → id of each unread notification. */
  unread: string;
  /** HASH: `epoch`, `seq`. */
  meta: string;
  /** HASH dedupe key → id. */
  dedupe: string;
  /** ZSET seq → dedupe key, to forget keys of trimmed notifications. */
  dedupeBySeq: string;
  /** Pub/sub channel of the user's frames. */
  channel: string;
}

/**
 * Every key of one user shares the hash tag `{userId}`, so one script can touch them all, also on a
 * Redis Cluster.
 */
export class RedisKeys {
  constructor(private readonly prefix: string) {}

  forUser(userId: string): UserKeys {
    const base = `${this.prefix}:{${userId}}:`;
    return {
      history: `${base}h`,
      unread: `${base}u`,
      meta: `${base}m`,
      dedupe: `${base}d`,
      dedupeBySeq: `${base}dz`,
      channel: `${base}ch`,
    };
  }

  userOfChannel(channel: string): string | undefined {
    const head = `${this.prefix}:{`;
    const tail = '}:ch';
    if (!channel.startsWith(head) || !channel.endsWith(tail)) return undefined;
    return channel.slice(head.length, -tail.length);
  }
}
