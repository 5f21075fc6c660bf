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

  static forRoot(config: Pick<AppConfig, 'production' | 'notifications'>): DynamicModule {
    const options: DemoOptions = {
      devEndpoints: !config.production && Boolean(config.notifications.jwt.secret),
    };
    return {
      module: DemoModule,
      controllers: options.devEndpoints ? [DemoController, DevController] : [DemoController],
      providers: [{ provide: DEMO_OPTIONS, useValue: options }],
    };
  }

  onApplicationBootstrap(): void {
    this.logger.log(
      this.options.devEndpoints
        ? 'demo page at / (development sign-in: POST /dev/token)'
        : 'demo page at / (sign in with a pasted token)',
    );
  }
}
