import { ConfigurableModuleBuilder } from '@nestjs/common';
import type {
  NotificationsModuleExtras,
  NotificationsModuleOptions,
} from './interfaces/notifications-options.interface.js';
import { NOTIFICATIONS_EXTRAS_DEFAULTS } from './notifications.defaults.js';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: NOTIFICATIONS_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<NotificationsModuleOptions>({ moduleName: 'Notifications' })
  .setClassMethodName('forRoot')
  .setExtras<NotificationsModuleExtras>(
    { ...NOTIFICATIONS_EXTRAS_DEFAULTS, http: undefined },
    (definition, extras) => ({ ...definition, global: extras.isGlobal }),
  )
  .build();
