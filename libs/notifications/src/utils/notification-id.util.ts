/**
 * Notification ids are `<epoch>-<seq>`: `seq` counts a user's stored notifications and `epoch` is drawn
 * at random when the user's history is created, so ids from before a reset of the history (Redis lost
 * its data, say) are told apart from new ones.
 */
export interface ParsedNotificationId {
  epoch: string;
  seq: number;
}

// Sequence 0 is no notification: it is the position of an empty history, as `ready.cursor` gives it.
const ID_PATTERN = /^([a-z0-9]{1,16})-(0|[1-9][0-9]{0,14})$/;

export function parseNotificationId(id: string): ParsedNotificationId | undefined {
  const match = ID_PATTERN.exec(id);
  if (!match) return undefined;
  return { epoch: match[1], seq: Number(match[2]) };
}

/**
 * A candidate epoch for a history that may be created by the next store (offered on every append,
 * used only when the user has no history yet): 10 random base-36 characters. Not a secret, so no
 * cryptographic randomness is spent on it.
 */
export function newEpoch(): string {
  return (Math.random().toString(36).slice(2, 12) + '0000000000').slice(0, 10);
}
