/** A stored notification as a client sees it: in frames, replays and inbox pages. */
export interface Notification<P extends object = Record<string, unknown>> {
  /**
   * Opaque, unique per user; ids arrive in the order the notifications were stored. Resume after the
   * last one seen with `since`.
   */
  id: string;
  /** `[a-z0-9._-]`, 1–64 characters, e.g. `comment.created`. */
  type: string;
  /** Protocol 1.1: `[a-z0-9._-]`, 1–64 characters; absent when the producer gave none. */
  category?: string;
  /** The producer's JSON object (`{}` when it gave none). */
  payload: P;
  /** ISO 8601 time at which it was stored. */
  createdAt: string;
  read: boolean;
  /** Protocol 1.1: seen (the bell's badge), independently of read. Archiving also marks it seen. */
  seen: boolean;
  /** Protocol 1.1: archived (also read and seen); listed only with `status=archived` or `all`. */
  archived: boolean;
  /** Protocol 1.1: ISO 8601 time after which it leaves the history (a `removed` event says so). */
  expiresAt?: string;
  /** Protocol 1.1: the producer's collapse key, when it gave one. */
  collapseKey?: string;
  /** Protocol 1.1: how many notifications this one stands for, when it replaced others (≥ 2). */
  collapsedCount?: number;
  /** Protocol 1.1: the id of the notification it replaced (drop that one if shown). */
  replaces?: string;
}
