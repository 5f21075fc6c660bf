import { NotificationService, type EnqueuedNotification } from '@app/notifications';
import { Body, Controller, HttpCode, Post, UseFilters, UseGuards } from '@nestjs/common';
import { NotificationsExceptionFilter } from '../common/notifications-exception.filter.js';
import { ApiKeyGuard } from './api-key.guard.js';

/** HTTP publish for producers in any language: the body is the job contract. */
@Controller('v1/notifications')
@UseGuards(ApiKeyGuard)
@UseFilters(NotificationsExceptionFilter)
export class PublishController {
  constructor(private readonly notifications: NotificationService) {}

  /** Validated by the job contract itself (as the worker does), not by the global pipe. */
  @Post()
  @HttpCode(202)
  publish(@Body() body: unknown): Promise<EnqueuedNotification> {
    return this.notifications.enqueue(body as never);
  }
}
