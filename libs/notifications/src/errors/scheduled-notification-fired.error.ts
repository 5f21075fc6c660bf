/**
 * `NotificationService.cancel` came too late: the notification under that dedupe key is in the user's
 * history already (or is being stored right now) and will not be taken back. Over HTTP this is a 409.
 */
export class ScheduledNotificationFiredError extends Error {
  override readonly name = 'ScheduledNotificationFiredError';

  constructor() {
    super('the notification under this dedupeKey was already delivered');
  }
}
