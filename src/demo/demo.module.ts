import {
  Inject,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { AppConfig } from '../config/app-config.js';
import { DemoController } from './demo.controller.js';
import { DEMO_OPTIONS, type DemoOptions } from './demo.constants.js';
import { DevController } from './dev.controller.js';

/**
 * The demo page at `/` and the browser SDK under `/sdk/`; outside production also the development
 * endpoints `POST /dev/token` and `POST /dev/notify`. Needs `NotificationService`,
 * `NotificationTokenIssuer` and `TokenVerifier` from a global `NotificationsModule`.
 */
@Module({})
export class DemoModule implements OnApplicationBootstrap {
  private readonly logger = new Logger(DemoModule.name);

  constructor(@Inject(DEMO_OPTIONS) private readonly options: DemoOptions) {}

  static forRoot(
    config: Pick<
      AppConfig,
      'production' | 'notifications' | 'usingDevelopmentSecret' | 'devTokens'
    >,
  ): DynamicModule {
    const options: DemoOptions = {
      devEndpoints:
        !config.production &&
        Boolean(config.notifications.jwt.secret) &&
        (config.usingDevelopmentSecret || config.devTokens),
      operatorKey: !config.usingDevelopmentSecret,
    };
    return {
      module: DemoModule,
      controllers: options.devEndpoints ? [DemoController, DevController] : [DemoController],
      providers: [{ provide: DEMO_OPTIONS, useValue: options }],
    };
  }

  onApplicationBootstrap(): void {
    const { devEndpoints, operatorKey } = this.options;
    this.logger.log(
      devEndpoints
        ? 'demo page at / (development sign-in: POST /dev/token)'
        : 'demo page at / (sign in with a pasted token)',
    );
    if (devEndpoints && operatorKey) {
      this.logger.warn(
        '!!! DEV_TOKENS=1: POST /dev/token signs a token for ANY user name with your JWT_SECRET. ' +
          'Anyone who reaches this service can act as any user. Never expose it. !!!',
      );
    } else if (operatorKey) {
      this.logger.log(
        'POST /dev/token and /dev/notify are off: tokens are verified with your own key ' +
          '(DEV_TOKENS=1 serves them anyway, outside production)',
      );
    }
  }
}
