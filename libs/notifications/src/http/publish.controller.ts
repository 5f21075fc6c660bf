import {
  Body,
  Controller,
  Headers,
  HttpCode,
  Post,
  Req,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { NotificationService, type EnqueuedNotification } from '../notification.service.js';
import { NotificationsApiKeyGuard } from './api-key.guard.js';
import { bearerCredential, type RequestWithHeaders } from './bearer.js';
import { NotificationsExceptionFilter } from './notifications-exception.filter.js';

/** HTTP publish for producers in any language: the body is the job contract. */
@Controller('v1/notifications')
@UseGuards(NotificationsApiKeyGuard)
@UseFilters(NotificationsExceptionFilter)
export class PublishController {
  constructor(private readonly notifications: NotificationService) {}

  /**
   * Validated by the job contract itself (as the worker does), not by a pipe. A retry with
   * the same `Idempotency-Key` (or `dedupeKey`) is answered with the first job's id and adds nothing;
   * keys are scoped by API key.
   */
  @Post()
  @HttpCode(202)
  publish(
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Req() request: RequestWithHeaders,
  ): Promise<EnqueuedNotification> {
    return this.notifications.enqueueIdempotent(body as never, {
      key: idempotencyKey,
      scope: bearerCredential(request),
    });
  }
}
