import { randomBytes } from 'node:crypto';

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

export function newEpoch(): string {
  return randomBytes(5).toString('hex');
}
