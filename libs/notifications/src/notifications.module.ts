import { BullModule } from '@nestjs/bullmq';
import { Module, type DynamicModule } from '@nestjs/common';
import type { NotificationsModuleExtras } from './interfaces/notifications-options.interface.js';
import { DEFAULT_QUEUE_NAME } from '@rtnotify/protocol';
import {
  ASYNC_OPTIONS_TYPE,
  ConfigurableModuleClass,
  OPTIONS_TYPE,
} from './notifications.module-definition.js';
import { createNotificationsProviders, NOTIFICATIONS_EXPORTS } from './notifications.providers.js';

function extrasOf(options: NotificationsModuleExtras): Required<NotificationsModuleExtras> {
  return {
    isGlobal: options.isGlobal ?? false,
    queueName: options.queueName ?? DEFAULT_QUEUE_NAME,
    gateway: options.gateway ?? true,
    worker: options.worker ?? true,
    workerOptions: options.workerOptions ?? {},
  };
}

function complete(definition: DynamicModule, options: NotificationsModuleExtras): DynamicModule {
  const extras = extrasOf(options);
  return {
    ...definition,
    imports: [...(definition.imports ?? []), BullModule.registerQueue({ name: extras.queueName })],
    providers: [...(definition.providers ?? []), ...createNotificationsProviders(extras)],
    exports: [...(definition.exports ?? []), ...NOTIFICATIONS_EXPORTS],
  };
}

/**
 * Real-time notifications: import once with `forRoot` or `forRootAsync`, next to the host's
 * `BullModule.forRoot` (whose Redis connection it uses), and inject `NotificationService` anywhere.
 */
@Module({})
export class NotificationsModule extends ConfigurableModuleClass {
  static forRoot(options: typeof OPTIONS_TYPE): DynamicModule {
    return complete(super.forRoot(options), options);
  }

  static forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return complete(super.forRootAsync(options), options);
  }
}
