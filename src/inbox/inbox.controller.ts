import {
  InboxService,
  MarkFrameDto,
  markSelectionOf,
  ReadFrameDto,
  type InboxPage,
  type NotificationCounts,
} from '@app/notifications';
import { Body, Controller, Get, HttpCode, Post, Query, UseGuards } from '@nestjs/common';
import { CurrentUser } from '../auth/current-user.decorator.js';
import { UserAuthGuard } from '../auth/user-auth.guard.js';
import { ListNotificationsQuery } from './inbox.dto.js';

/** The signed-in user's own notifications. */
@Controller('v1/me')
@UseGuards(UserAuthGuard)
export class InboxController {
  constructor(private readonly inbox: InboxService) {}

  @Get('notifications')
  list(@CurrentUser() userId: string, @Query() query: ListNotificationsQuery): Promise<InboxPage> {
    return this.inbox.list(userId, query);
  }

  /** v1: marks read; answers the unread count. */
  @Post('notifications/read')
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

  /** Sets or clears a state (the body is the `mark` event's data); answers the counts. */
  @Post('notifications/mark')
  @HttpCode(200)
  async mark(
    @CurrentUser() userId: string,
    @Body() body: MarkFrameDto,
  ): Promise<NotificationCounts> {
    return (await this.inbox.mark(userId, markSelectionOf(body))).counts;
  }

  @Get('counts')
  counts(@CurrentUser() userId: string): Promise<NotificationCounts> {
    return this.inbox.counts(userId);
  }
}
