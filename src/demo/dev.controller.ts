import { NotificationService } from '@app/notifications';
import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { CurrentUser } from '../auth/current-user.decorator.js';
import { UserAuthGuard } from '../auth/user-auth.guard.js';
import { DEMO_NOTIFICATION_TYPE } from './demo.constants.js';
import { DevNotifyBody, DevTokenBody } from './demo.dto.js';
import { DevTokenIssuer } from './dev-token.issuer.js';

/** Development helpers of the demo page. Never mounted in production. */
@Controller('dev')
export class DevController {
  constructor(
    private readonly issuer: DevTokenIssuer,
    private readonly notifications: NotificationService,
  ) {}

  /** A short-lived token for any name: anyone can be anyone, which is why this is dev-only. */
  @Post('token')
  @HttpCode(200)
  token(@Body() body: DevTokenBody): Promise<{ token: string; expiresIn: number }> {
    return this.issuer.issue(body.name);
  }

  /** Sends the caller a test notification, through the queue like any producer. */
  @Post('notify')
  @HttpCode(202)
  @UseGuards(UserAuthGuard)
  notify(@CurrentUser() userId: string, @Body() body: DevNotifyBody): Promise<{ jobId: string }> {
    return this.notifications.notify(userId, {
      type: DEMO_NOTIFICATION_TYPE,
      payload: { message: body.message ?? 'Hello from the demo page' },
      ...(body.category === undefined ? {} : { category: body.category }),
    });
  }
}
