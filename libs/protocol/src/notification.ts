/** A stored notification as a client sees it: in frames, replays and inbox pages. */
export interface Notification<P extends object = Record<string, unknown>> {
  /**
   * Opaque, unique per user; ids arrive in the order the notifications were stored. Resume after the
   * last one seen with `since`.
   */
  id: string;
  /** `[a-z0-9._-]`, 1–64 characters, e.g. `comment.created`. */
  type: string;
  /** The producer's JSON object (`{}` when it gave none). */
  payload: P;
  /** ISO 8601 time at which it was stored. */
  createdAt: string;
  read: boolean;
}
