import { ConfigurableModuleBuilder } from '@nestjs/common';
import { DEFAULT_QUEUE_NAME, DEFAULT_SOCKET_PATH } from '@rtnotify/protocol';
import type {
  NotificationsModuleExtras,
  NotificationsModuleOptions,
} from './interfaces/notifications-options.interface.js';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: NOTIFICATIONS_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<NotificationsModuleOptions>({ moduleName: 'Notifications' })
  .setClassMethodName('forRoot')
  .setExtras<NotificationsModuleExtras>(
    {
      isGlobal: false,
      queueName: DEFAULT_QUEUE_NAME,
      gateway: true,
      socketPath: DEFAULT_SOCKET_PATH,
      worker: true,
      workerOptions: {},
      http: undefined,
    },
    (definition, extras) => ({ ...definition, global: extras.isGlobal }),
  )
  .build();
