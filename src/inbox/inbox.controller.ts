import { InboxService, ReadFrameDto, type InboxPage } from '@app/notifications';
import { Body, Controller, Get, HttpCode, Post, Query, UseGuards } from '@nestjs/common';
import { CurrentUser } from '../auth/current-user.decorator.js';
import { UserAuthGuard } from '../auth/user-auth.guard.js';
import { ListNotificationsQuery } from './inbox.dto.js';

/** The signed-in user's own notifications. */
@Controller('v1/me/notifications')
@UseGuards(UserAuthGuard)
export class InboxController {
  constructor(private readonly inbox: InboxService) {}

  @Get()
  list(@CurrentUser() userId: string, @Query() query: ListNotificationsQuery): Promise<InboxPage> {
    return this.inbox.list(userId, { limit: query.limit, before: query.before });
  }

  @Post('read')
  @HttpCode(200)
  async read(
    @CurrentUser() userId: string,
    @Body() body: ReadFrameDto,
  ): Promise<{ unread: number }> {
    const { unread } = await this.inbox.markRead(
      userId,
      body.all ? { all: true } : { ids: body.ids ?? [] },
    );
    return { unread };
  }
}
