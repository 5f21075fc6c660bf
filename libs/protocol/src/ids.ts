/**
 * Notification ids are `<epoch>-<seq>`: `seq` counts a user's stored notifications and `epoch` is drawn
 * at random when the user's history is created, so ids from before a reset of the history (Redis lost
 * its data, say) are told apart from new ones. Clients treat ids as opaque; they need no parsing to
 * resume (`since` is simply the last id seen).
 */
export interface ParsedNotificationId {
  epoch: string;
  seq: number;
}

// Sequence 0 is no notification: it is the position of an empty history, as `ready.cursor` gives it.
const ID_PATTERN = /^([a-z0-9]{1,16})-(0|[1-9][0-9]{0,14})$/;

/** The epoch and sequence of an id, or `undefined` when it is not an id the server could issue. */
export function parseNotificationId(id: string): ParsedNotificationId | undefined {
  const match = ID_PATTERN.exec(id);
  if (!match) return undefined;
  return { epoch: match[1], seq: Number(match[2]) };
}

/**
 * Whether `a` was stored after `b`: only answerable within one epoch (`undefined` otherwise, or when
 * either is not an id).
 */
export function isNewerNotificationId(a: string, b: string): boolean | undefined {
  const first = parseNotificationId(a);
  const second = parseNotificationId(b);
  if (!first || !second || first.epoch !== second.epoch) return undefined;
  return first.seq > second.seq;
}
