import {
  Body,
  Controller,
  Delete,
  Headers,
  HttpCode,
  Post,
  Req,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import {
  NotificationService,
  type EnqueuedNotification,
} from '../producer/notification.service.js';
import { NotificationsApiKeyGuard } from '../auth/api-key.guard.js';
import { bearerCredential, type RequestWithHeaders } from '../auth/bearer.js';
import { CancelScheduledDto } from './cancel-scheduled.dto.js';
import { NotificationsExceptionFilter } from './notifications-exception.filter.js';
import { StrictValidationPipe } from './strict-validation.pipe.js';

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

  /**
   * Cancels a scheduled notification (`deliverAt`) of one user by its `dedupeKey`: 200
   * `{cancelled: true}` (it will not be delivered), 404 when nothing is scheduled under the key, 409
   * when it was already delivered.
   */
  @Delete('scheduled')
  @HttpCode(200)
  cancelScheduled(
    @Body(new StrictValidationPipe()) body: CancelScheduledDto,
  ): Promise<{ cancelled: true }> {
    return this.notifications.cancel(body.userId, body.dedupeKey);
  }
}
