import { Injectable } from '@nestjs/common';
import { NotificationStore } from './notification.store.js';

/** Readiness of this instance's notifications: for the host's health checks. */
@Injectable()
export class NotificationsHealth {
  constructor(private readonly store: NotificationStore) {}

  /**
   * Resolves when the library's Redis answers; rejects while it is unreachable. Bound it with a
   * timeout of your own (e.g. terminus' `withTimeout(1000)`).
   */
  ping(): Promise<void> {
    return this.store.ping();
  }
}
