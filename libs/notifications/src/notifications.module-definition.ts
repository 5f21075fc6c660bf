import { ConfigurableModuleBuilder } from '@nestjs/common';
import type {
  NotificationsModuleExtras,
  NotificationsModuleOptions,
} from './interfaces/notifications-options.interface.js';
import { DEFAULT_QUEUE_NAME } from '@rtnotify/protocol';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: NOTIFICATIONS_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<NotificationsModuleOptions>({ moduleName: 'Notifications' })
  .setClassMethodName('forRoot')
  .setExtras<Required<NotificationsModuleExtras>>(
    {
      isGlobal: false,
      queueName: DEFAULT_QUEUE_NAME,
      gateway: true,
      worker: true,
      workerOptions: {},
    },
    (definition, extras) => ({ ...definition, global: extras.isGlobal }),
  )
  .build();
