import { Injectable } from '@nestjs/common';
import { NotificationStore } from './storage/notification.store.js';

/** Readiness of this instance's notifications: for the host's health checks. */
@Injectable()
export class NotificationsHealth {
  constructor(private readonly store: NotificationStore) {}

  /**
   * Resolves when the library's Redis answers (on a Redis Cluster, with the cluster's state: every
   * master known reports `cluster_state:ok`); rejects while it is unreachable. Bound it with a
   * timeout of your own (e.g. terminus' `withTimeout(1000)`).
   */
  ping(): Promise<Record<string, string | number> | void> {
    return this.store.ping();
  }
}
