import { getQueueToken } from '@nestjs/bullmq';
import type { Provider, Type } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ConnectionRegistry } from './gateway/connection.registry.js';
import { ConnectionHeartbeat } from './gateway/connection-heartbeat.js';
import { GatewayPresence } from './gateway/gateway-presence.js';
import { HandshakeHolds } from './gateway/handshake-holds.js';
import { LiveInboxService } from './gateway/live-inbox.service.js';
import { gatewayForPath } from './gateway/notification.gateway.js';
import { UpgradeAuthenticator } from './gateway/upgrade-authenticator.js';
import { InboxController } from './http/inbox.controller.js';
import { PreferencesController } from './http/preferences.controller.js';
import { PreferencesService } from './preferences/preferences.service.js';
import { NotificationsExceptionFilter } from './http/notifications-exception.filter.js';
import { PresenceController } from './http/presence.controller.js';
import { PublishController } from './http/publish.controller.js';
import { InboxService } from './inbox/inbox.service.js';
import type {
  NotificationsModuleExtras,
  NotificationsModuleOptions,
  NotificationsWorkerOptions,
} from './interfaces/notifications-options.interface.js';
import { NotificationBroker } from './storage/notification.broker.js';
import { ExpirySweeper } from './worker/expiry.sweeper.js';
import { FallbackService } from './fallback/fallback.service.js';
import { processorForQueue } from './worker/notification.processor.js';
import { NotificationService } from './producer/notification.service.js';
import { NotificationStore } from './storage/notification.store.js';
import { NOTIFICATIONS_QUEUE, NOTIFICATIONS_QUEUE_NAME } from './notifications.constants.js';
import { NOTIFICATIONS_EXTRAS_DEFAULTS } from './notifications.defaults.js';
import { NotificationsHealth } from './notifications.health.js';
import { NotificationsMetrics } from './notifications.metrics.js';
import { NOTIFICATIONS_MODULE_OPTIONS } from './notifications.module-definition.js';
import { NotificationsSettings } from './notifications.settings.js';
import { isCluster } from './storage/cluster-connection.js';
import { ClusterNotificationBroker } from './storage/cluster-notification.broker.js';
import { NotificationsRedis } from './storage/notifications-redis.js';
import { PresenceStore } from './storage/presence.store.js';
import { RedisPresenceStore } from './storage/redis-presence.store.js';
import { PresenceService } from './presence/presence.service.js';
import { RedisNotificationBroker } from './storage/redis-notification.broker.js';
import { RedisNotificationStore } from './storage/redis-notification.store.js';
import { RedisScheduleStore } from './storage/redis-schedule.store.js';
import { ScheduleStore } from './storage/schedule.store.js';
import { NotificationTokenIssuer } from './auth/token.issuer.js';
import { TokenVerifier } from './auth/token.verifier.js';

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
  presence: boolean;
  /** The global exception filter (registered with any `http` option). */
  errorFilter: boolean;
}

export function roleSetupOf(extras: NotificationsModuleExtras): NotificationsRoleSetup {
  const http = extras.http;
  const defaults = NOTIFICATIONS_EXTRAS_DEFAULTS;
  return {
    isGlobal: extras.isGlobal ?? defaults.isGlobal,
    queueName: extras.queueName ?? defaults.queueName,
    gateway: extras.gateway ?? defaults.gateway,
    socketPath: extras.socketPath ?? defaults.socketPath,
    worker: extras.worker ?? defaults.worker,
    workerOptions: extras.workerOptions ?? { ...defaults.workerOptions },
    inbox: http !== undefined && (http.inbox ?? true),
    publish: http !== undefined && (http.publish ?? true),
    presence: http !== undefined && (http.presence ?? true),
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
        new NotificationsSettings(options, {
          gateway: setup.gateway,
          inbox: setup.inbox,
          queueName: setup.queueName,
        }),
      inject: [NOTIFICATIONS_MODULE_OPTIONS],
    },
    NotificationsRedis,
    { provide: NotificationStore, useClass: RedisNotificationStore },
    { provide: ScheduleStore, useClass: RedisScheduleStore },
    ConnectionRegistry,
    TokenVerifier,
    NotificationTokenIssuer,
    NotificationService,
    InboxService,
    { provide: PresenceStore, useClass: RedisPresenceStore },
    PresenceService,
    PreferencesService,
    NotificationsMetrics,
    NotificationsHealth,
  ];
  if (setup.gateway) {
    providers.push(
      {
        // Sharded pub/sub when the host's connection is a Redis Cluster.
        provide: NotificationBroker,
        useFactory: (redis: NotificationsRedis, settings: NotificationsSettings) =>
          isCluster(redis.client)
            ? new ClusterNotificationBroker(redis.client, settings)
            : new RedisNotificationBroker(redis, settings),
        inject: [NotificationsRedis, NotificationsSettings],
      },
      UpgradeAuthenticator,
      GatewayPresence,
      ConnectionHeartbeat,
      HandshakeHolds,
      LiveInboxService,
      gatewayForPath(setup.socketPath),
    );
  }
  if (setup.worker) {
    providers.push(
      processorForQueue(setup.queueName, setup.workerOptions),
      ExpirySweeper,
      FallbackService,
    );
  }
  if (setup.errorFilter) {
    providers.push({ provide: APP_FILTER, useClass: NotificationsExceptionFilter });
  }
  return providers;
}

/** The HTTP routes of this instance. */
export function createNotificationsControllers(setup: NotificationsRoleSetup): Type[] {
  return [
    ...(setup.inbox ? [InboxController, PreferencesController] : []),
    ...(setup.publish ? [PublishController] : []),
    ...(setup.presence ? [PresenceController] : []),
  ];
}

/** What host modules may inject. */
export const NOTIFICATIONS_EXPORTS = [
  NotificationService,
  InboxService,
  PresenceService,
  PreferencesService,
  NotificationsMetrics,
  NotificationsHealth,
  ConnectionRegistry,
  TokenVerifier,
  NotificationTokenIssuer,
  NotificationsSettings,
];
