import { Body, Controller, Get, HttpCode, Post, Query, UseGuards, UsePipes } from '@nestjs/common';
import type { InboxPage, UnreadCount } from '@rtnotify/protocol';
import { ReadFrameDto } from '../dto/client-frames.dto.js';
import { InboxService } from '../inbox/inbox.service.js';
import { NotificationsUserId } from '../auth/current-user.decorator.js';
import { ListNotificationsQuery } from './inbox.dto.js';
import { StrictValidationPipe } from './strict-validation.pipe.js';
import { NotificationsUserGuard } from '../auth/user-auth.guard.js';

/** The signed-in user's own notifications. */
@Controller('v1/me/notifications')
@UseGuards(NotificationsUserGuard)
@UsePipes(new StrictValidationPipe())
export class InboxController {
  constructor(private readonly inbox: InboxService) {}

  @Get()
  list(
    @NotificationsUserId() userId: string,
    @Query() query: ListNotificationsQuery,
  ): Promise<InboxPage> {
    return this.inbox.list(userId, { limit: query.limit, before: query.before });
  }

  @Post('read')
  @HttpCode(200)
  async read(
    @NotificationsUserId() userId: string,
    @Body() body: ReadFrameDto,
  ): Promise<UnreadCount> {
    const { unread } = await this.inbox.markRead(
      userId,
      body.all ? { all: true } : { ids: body.ids ?? [] },
    );
    return { unread };
  }
}
