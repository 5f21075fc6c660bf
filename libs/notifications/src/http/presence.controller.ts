import {
  Body,
  Controller,
  Get,
  HttpCode,
  Post,
  Query,
  UseFilters,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import { NotificationsApiKeyGuard } from '../auth/api-key.guard.js';
import { PresenceService } from '../presence/presence.service.js';
import { JsonBodyGuard } from './json-body.guard.js';
import { NotificationsExceptionFilter } from './notifications-exception.filter.js';
import { PresenceBody, PresenceQuery } from './presence.dto.js';
import { StrictValidationPipe } from './strict-validation.pipe.js';

/** `{"online": {"<userId>": true | false}}`: whether each user has a socket open on some gateway. */
type PresenceAnswer = { online: Record<string, boolean> };

/** Presence for producers in any language (API key, as HTTP publish). */
@Controller('v1/presence')
@UseGuards(NotificationsApiKeyGuard)
@UseFilters(NotificationsExceptionFilter)
// One message per field: "not a list" alone, not also every rule a list would break.
@UsePipes(new StrictValidationPipe({ stopAtFirstError: true }))
export class PresenceController {
  constructor(private readonly presence: PresenceService) {}

  /** `?userIds=a,b`: as long as the URL fits the server's header limit (about 400 UUIDs). */
  @Get()
  async online(@Query() query: PresenceQuery): Promise<PresenceAnswer> {
    return { online: await this.presence.online(query.userIds) };
  }

  /** `{"userIds": [...]}`: up to 1000 ids of any valid length, which no URL holds. */
  @Post()
  @HttpCode(200)
  @UseGuards(JsonBodyGuard)
  async onlineOf(@Body() body: PresenceBody): Promise<PresenceAnswer> {
    return { online: await this.presence.online(body.userIds) };
  }
}
