import { BullModule } from '@nestjs/bullmq';
import { Module, type DynamicModule } from '@nestjs/common';
import type { NotificationsModuleExtras } from './interfaces/notifications-options.interface.js';
import {
  ASYNC_OPTIONS_TYPE,
  ConfigurableModuleClass,
  OPTIONS_TYPE,
} from './notifications.module-definition.js';
import {
  createNotificationsControllers,
  createNotificationsProviders,
  NOTIFICATIONS_EXPORTS,
  roleSetupOf,
} from './notifications.providers.js';

function complete(definition: DynamicModule, extras: NotificationsModuleExtras): DynamicModule {
  const setup = roleSetupOf(extras);
  return {
    ...definition,
    imports: [...(definition.imports ?? []), BullModule.registerQueue({ name: setup.queueName })],
    controllers: [...(definition.controllers ?? []), ...createNotificationsControllers(setup)],
    providers: [...(definition.providers ?? []), ...createNotificationsProviders(setup)],
    exports: [...(definition.exports ?? []), ...NOTIFICATIONS_EXPORTS],
  };
}

/**
 * Real-time notifications: import once with `forRoot` or `forRootAsync`, next to the host's
 * `BullModule.forRoot` (whose Redis connection it uses), and inject `NotificationService` anywhere.
 *
 * Static options (also with `forRootAsync`) choose what this instance does: `gateway` (the socket
 * endpoint on `socketPath`), `worker` (consumes the queue `queueName`), `http` (the inbox, publish
 * and presence routes, and a global filter that maps the library's errors to 400 and 503), `isGlobal`.
 * The host serves sockets with a `ws` adapter: `app.useWebSocketAdapter(new NotificationsWsAdapter(app))`.
 *
 * @example
 * NotificationsModule.forRoot({
 *   isGlobal: true,
 *   jwt: { secret: process.env.JWT_SECRET },
 *   http: { inbox: true, publish: true },
 *   apiKeys: [process.env.NOTIFY_API_KEY],
 * })
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
