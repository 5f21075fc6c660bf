import { createHash } from 'node:crypto';

/** A stable digest of one notification of one user (ids are unique per user only). */
function digestOf(userId: string, id: string): string {
  return createHash('sha256').update(userId).update('\0').update(id).digest('hex').slice(0, 40);
}

/** The id of the `fallback-check` job of a notification: one per notification, whoever adds it. */
export const fallbackCheckJobId = (userId: string, id: string): string =>
  `fbc-${digestOf(userId, id)}`;

/** The id of the `fallback` job on the host's queue: BullMQ adds nothing under an id it holds. */
export const fallbackJobId = (userId: string, id: string): string => `fb-${digestOf(userId, id)}`;
