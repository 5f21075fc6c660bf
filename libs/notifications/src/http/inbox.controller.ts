import {
  Body,
  Controller,
  Get,
  HttpCode,
  Post,
  Query,
  UseGuards,
  UseInterceptors,
  UsePipes,
} from '@nestjs/common';
import type { InboxPage, NotificationCounts, UnreadCount } from '@rtnotify/protocol';
import { MarkFrameDto, markSelectionOf, ReadFrameDto } from '../dto/client-frames.dto.js';
import { InboxService } from '../inbox/inbox.service.js';
import { NotificationsUserId } from '../auth/current-user.decorator.js';
import { ListNotificationsQuery } from './inbox.dto.js';
import { RedisUnavailableInterceptor } from './redis-unavailable.interceptor.js';
import { StrictValidationPipe } from './strict-validation.pipe.js';
import { NotificationsUserGuard } from '../auth/user-auth.guard.js';

/** The signed-in user's own notifications; 503 while Redis is unreachable. */
@Controller('v1/me')
@UseGuards(NotificationsUserGuard)
@UsePipes(new StrictValidationPipe())
@UseInterceptors(RedisUnavailableInterceptor)
export class InboxController {
  constructor(private readonly inbox: InboxService) {}

  @Get('notifications')
  list(
    @NotificationsUserId() userId: string,
    @Query() query: ListNotificationsQuery,
  ): Promise<InboxPage> {
    return this.inbox.list(userId, query);
  }

  /** v1: marks read; answers the unread count. */
  @Post('notifications/read')
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

  /** Sets or clears a state (the body is the `mark` event's data); answers the counts. */
  @Post('notifications/mark')
  @HttpCode(200)
  async mark(
    @NotificationsUserId() userId: string,
    @Body() body: MarkFrameDto,
  ): Promise<NotificationCounts> {
    return (await this.inbox.mark(userId, markSelectionOf(body))).counts;
  }

  @Get('counts')
  counts(@NotificationsUserId() userId: string): Promise<NotificationCounts> {
    return this.inbox.counts(userId);
  }
}
