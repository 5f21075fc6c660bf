import { Body, Controller, HttpCode, Post, UseGuards, UsePipes } from '@nestjs/common';
import {
  NotificationService,
  NotificationsUserGuard,
  NotificationsUserId,
  NotificationTokenIssuer,
  StrictValidationPipe,
  type EnqueuedNotification,
  type IssuedToken,
} from '@rtnotify/nestjs';

import { DEMO_NOTIFICATION_TYPE, DEV_TOKEN_TTL_SECONDS } from './demo.constants.js';
import { DevNotifyBody, DevTokenBody } from './demo.dto.js';

/** Development helpers of the demo page. Never mounted in production. */
@Controller('dev')
@UsePipes(new StrictValidationPipe())
export class DevController {
  constructor(
    private readonly issuer: NotificationTokenIssuer,
    private readonly notifications: NotificationService,
  ) {}

  /** A short-lived token for any name: anyone can be anyone, which is why this is dev-only. */
  @Post('token')
  @HttpCode(200)
  token(@Body() body: DevTokenBody): Promise<IssuedToken> {
    return this.issuer.issueToken(body.name, { expiresInSeconds: DEV_TOKEN_TTL_SECONDS });
  }

  /** Sends the caller a test notification, through the queue like any producer. */
  @Post('notify')
  @HttpCode(202)
  @UseGuards(NotificationsUserGuard)
  notify(
    @NotificationsUserId() userId: string,
    @Body() body: DevNotifyBody,
  ): Promise<EnqueuedNotification> {
    return this.notifications.notify(userId, {
      type: DEMO_NOTIFICATION_TYPE,
      payload: { message: body.message ?? 'Hello from the demo page' },
      ...(body.category === undefined ? {} : { category: body.category }),
    });
  }
}
