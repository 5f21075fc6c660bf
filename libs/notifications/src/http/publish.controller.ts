import { Body, Controller, HttpCode, Post, UseFilters, UseGuards } from '@nestjs/common';
import { NotificationService, type EnqueuedNotification } from '../notification.service.js';
import { NotificationsApiKeyGuard } from './api-key.guard.js';
import { NotificationsExceptionFilter } from './notifications-exception.filter.js';

/** HTTP publish for producers in any language: the body is the job contract. */
@Controller('v1/notifications')
@UseGuards(NotificationsApiKeyGuard)
@UseFilters(NotificationsExceptionFilter)
export class PublishController {
  constructor(private readonly notifications: NotificationService) {}

  /** Validated by the job contract itself (as the worker does), not by a pipe. */
  @Post()
  @HttpCode(202)
  publish(@Body() body: unknown): Promise<EnqueuedNotification> {
    return this.notifications.enqueue(body as never);
  }
}
