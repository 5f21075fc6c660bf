/**
 * `NotificationService.cancel` found nothing scheduled for the user under that dedupe key (never
 * scheduled with it, or cancelled already). Over HTTP this is a 404.
 */
export class ScheduledNotificationNotFoundError extends Error {
  override readonly name = 'ScheduledNotificationNotFoundError';

  constructor() {
    super('no notification is scheduled for this user under this dedupeKey');
  }
}
