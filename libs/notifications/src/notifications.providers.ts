import { getQueueToken } from '@nestjs/bullmq';
import type { Provider } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { ConnectionRegistry } from './connection.registry.js';
import { ExpirySweeper } from './expiry.sweeper.js';
import { InboxService } from './inbox.service.js';
import { NotificationGateway } from './gateway/notification.gateway.js';
import type {
  NotificationsModuleExtras,
  NotificationsModuleOptions,
} from './interfaces/notifications-options.interface.js';
import { NotificationBroker } from './notification.broker.js';
import { processorForQueue } from './notification.processor.js';
import { NotificationService } from './notification.service.js';
import { NotificationsMetrics } from './notifications.metrics.js';
import { NotificationStore } from './notification.store.js';
import {
  NOTIFICATIONS_QUEUE,
  NOTIFICATIONS_QUEUE_NAME,
  NOTIFICATIONS_REDIS,
} from './notifications.constants.js';
import { NOTIFICATIONS_MODULE_OPTIONS } from './notifications.module-definition.js';
import { NotificationsSettings } from './notifications.settings.js';
import { RedisNotificationBroker } from './redis/redis-notification.broker.js';
import { RedisNotificationStore } from './redis/redis-notification.store.js';
import { TokenVerifier } from './token.verifier.js';

/**
 * The store's own connection, made from the host's BullMQ connection: the library never configures
 * Redis itself. Commands fail after a short retry instead of queueing forever while Redis is down.
 */
async function createStoreConnection(queue: Queue) {
  const client = await queue.client;
  const redis = client.duplicate({
    connectionName: 'notifications-store',
    maxRetriesPerRequest: 2,
  });
  redis.on('error', () => undefined);
  return redis;
}

/** Every provider of the module, by role: the gateway and the worker are optional per instance. */
export function createNotificationsProviders(
  extras: Required<NotificationsModuleExtras>,
): Provider[] {
  const providers: Provider[] = [
    { provide: NOTIFICATIONS_QUEUE_NAME, useValue: extras.queueName },
    { provide: NOTIFICATIONS_QUEUE, useExisting: getQueueToken(extras.queueName) },
    {
      provide: NotificationsSettings,
      useFactory: (options: NotificationsModuleOptions) => new NotificationsSettings(options),
      inject: [NOTIFICATIONS_MODULE_OPTIONS],
    },
    {
      provide: NOTIFICATIONS_REDIS,
      useFactory: createStoreConnection,
      inject: [NOTIFICATIONS_QUEUE],
    },
    { provide: NotificationStore, useClass: RedisNotificationStore },
    { provide: NotificationBroker, useClass: RedisNotificationBroker },
    ConnectionRegistry,
    TokenVerifier,
    NotificationService,
    InboxService,
    NotificationsMetrics,
  ];
  if (extras.gateway) providers.push(NotificationGateway);
  if (extras.worker) {
    providers.push(processorForQueue(extras.queueName, extras.workerOptions), ExpirySweeper);
  }
  return providers;
}

/** What host modules may inject. */
export const NOTIFICATIONS_EXPORTS = [
  NotificationService,
  InboxService,
  NotificationsMetrics,
  NotificationStore,
  ConnectionRegistry,
  TokenVerifier,
  NotificationsSettings,
];
