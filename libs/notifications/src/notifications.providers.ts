import { getQueueToken } from '@nestjs/bullmq';
import type { Provider, Type } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { DEFAULT_QUEUE_NAME, DEFAULT_SOCKET_PATH } from '@rtnotify/protocol';
import { ConnectionRegistry } from './connection.registry.js';
import { ExpirySweeper } from './expiry.sweeper.js';
import { gatewayForPath } from './gateway/notification.gateway.js';
import { InboxController } from './http/inbox.controller.js';
import { NotificationsExceptionFilter } from './http/notifications-exception.filter.js';
import { PublishController } from './http/publish.controller.js';
import { InboxService } from './inbox.service.js';
import type {
  NotificationsModuleExtras,
  NotificationsModuleOptions,
  NotificationsWorkerOptions,
} from './interfaces/notifications-options.interface.js';
import { NotificationBroker } from './notification.broker.js';
import { processorForQueue } from './notification.processor.js';
import { NotificationService } from './notification.service.js';
import { NotificationStore } from './notification.store.js';
import { NOTIFICATIONS_QUEUE, NOTIFICATIONS_QUEUE_NAME } from './notifications.constants.js';
import { NotificationsHealth } from './notifications.health.js';
import { NotificationsMetrics } from './notifications.metrics.js';
import { NOTIFICATIONS_MODULE_OPTIONS } from './notifications.module-definition.js';
import { NotificationsSettings } from './notifications.settings.js';
import { NotificationsRedis } from './redis/notifications-redis.js';
import { RedisNotificationBroker } from './redis/redis-notification.broker.js';
import { RedisNotificationStore } from './redis/redis-notification.store.js';
import { NotificationTokenIssuer } from './token.issuer.js';
import { TokenVerifier } from './token.verifier.js';

/** The static options with their defaults: what this instance does. */
export interface NotificationsRoleSetup {
  isGlobal: boolean;
  queueName: string;
  gateway: boolean;
  socketPath: string;
  worker: boolean;
  workerOptions: NotificationsWorkerOptions;
  inbox: boolean;
  publish: boolean;
  /** The global exception filter (registered with any `http` option). */
  errorFilter: boolean;
}

export function roleSetupOf(extras: NotificationsModuleExtras): NotificationsRoleSetup {
  const http = extras.http;
  return {
    isGlobal: extras.isGlobal ?? false,
    queueName: extras.queueName ?? DEFAULT_QUEUE_NAME,
    gateway: extras.gateway ?? true,
    socketPath: extras.socketPath ?? DEFAULT_SOCKET_PATH,
    worker: extras.worker ?? true,
    workerOptions: extras.workerOptions ?? {},
    inbox: http !== undefined && (http.inbox ?? true),
    publish: http !== undefined && (http.publish ?? true),
    errorFilter: http !== undefined,
  };
}

/**
 * Every provider of the module, by role. Always: the producer API, the inbox, the store on the
 * library's own connection, token verification and signing (they need `jwt` only when used), metrics,
 * health. The gateway alone subscribes to user channels (the broker's connection); the worker alone
 * consumes jobs.
 */
export function createNotificationsProviders(setup: NotificationsRoleSetup): Provider[] {
  const providers: Provider[] = [
    { provide: NOTIFICATIONS_QUEUE_NAME, useValue: setup.queueName },
    { provide: NOTIFICATIONS_QUEUE, useExisting: getQueueToken(setup.queueName) },
    {
      provide: NotificationsSettings,
      useFactory: (options: NotificationsModuleOptions) =>
        new NotificationsSettings(options, { gateway: setup.gateway, inbox: setup.inbox }),
      inject: [NOTIFICATIONS_MODULE_OPTIONS],
    },
    NotificationsRedis,
    { provide: NotificationStore, useClass: RedisNotificationStore },
    ConnectionRegistry,
    TokenVerifier,
    NotificationTokenIssuer,
    NotificationService,
    InboxService,
    NotificationsMetrics,
    NotificationsHealth,
  ];
  if (setup.gateway) {
    providers.push(
      { provide: NotificationBroker, useClass: RedisNotificationBroker },
      gatewayForPath(setup.socketPath),
    );
  }
  if (setup.worker) {
    providers.push(processorForQueue(setup.queueName, setup.workerOptions), ExpirySweeper);
  }
  if (setup.errorFilter) {
    providers.push({ provide: APP_FILTER, useClass: NotificationsExceptionFilter });
  }
  return providers;
}

/** The HTTP routes of this instance. */
export function createNotificationsControllers(setup: NotificationsRoleSetup): Type[] {
  return [...(setup.inbox ? [InboxController] : []), ...(setup.publish ? [PublishController] : [])];
}

/** What host modules may inject. */
export const NOTIFICATIONS_EXPORTS = [
  NotificationService,
  InboxService,
  NotificationsMetrics,
  NotificationsHealth,
  ConnectionRegistry,
  TokenVerifier,
  NotificationTokenIssuer,
  NotificationsSettings,
];
