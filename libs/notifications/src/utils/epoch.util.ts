/**
 * A candidate epoch for a history that may be created by the next store (offered on every append,
 * used only when the user has no history yet): 10 random base-36 characters, a valid id epoch (see
 * `parseNotificationId`). Not a secret, so no cryptographic randomness is spent on it.
 */
export function newEpoch(): string {
  return (Math.random().toString(36).slice(2, 12) + '0000000000').slice(0, 10);
}
