import { Controller, Get, Query, UseFilters, UseGuards, UsePipes } from '@nestjs/common';
import { NotificationsApiKeyGuard } from '../auth/api-key.guard.js';
import { PresenceService } from '../presence/presence.service.js';
import { NotificationsExceptionFilter } from './notifications-exception.filter.js';
import { PresenceQuery } from './presence.dto.js';
import { StrictValidationPipe } from './strict-validation.pipe.js';

/** Presence for producers in any language (API key, as HTTP publish). */
@Controller('v1/presence')
@UseGuards(NotificationsApiKeyGuard)
@UseFilters(NotificationsExceptionFilter)
@UsePipes(new StrictValidationPipe())
export class PresenceController {
  constructor(private readonly presence: PresenceService) {}

  /** `{"online": {"<userId>": true | false}}`: whether each user has a socket open on some gateway. */
  @Get()
  async online(@Query() query: PresenceQuery): Promise<{ online: Record<string, boolean> }> {
    return { online: await this.presence.online(query.userIds) };
  }
}
