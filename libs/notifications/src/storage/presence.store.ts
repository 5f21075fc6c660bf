/** This gateway's presence entries to write in one batch. */
export interface PresenceWrite {
  /** The gateway process's instance id: the member of each user's presence ZSET. */
  instanceId: string;
  /** Users with a socket on this gateway: their entry is set to `deadline`. */
  present: string[];
  /** When the entries of `present` lapse unless refreshed (epoch ms). */
  deadline: number;
  /** Users with no socket left on this gateway: their entry is removed. */
  absent: string[];
  /** Now (epoch ms): entries of any gateway that lapsed by then are dropped on the way. */
  now: number;
}

/**
 * Who is online, across every gateway: each gateway keeps one entry per user it holds a socket of,
 * with a deadline it keeps moving forward; a user is online while some entry's deadline is ahead.
 * Implemented on Redis (see `RedisPresenceStore`); a test or another backend can stand in.
 */
export abstract class PresenceStore {
  /** Writes this gateway's entries: one batch, whatever the number of users. */
  abstract write(batch: PresenceWrite): Promise<void>;

  /** For each user, in order, whether some gateway's entry is live at `now` (epoch ms). */
  abstract online(userIds: readonly string[], now: number): Promise<boolean[]>;
}
