import { Body, Controller, Get, Patch, UseGuards } from '@nestjs/common';
import type { NotificationPreferences } from '@rtnotify/protocol';
import { NotificationsUserId } from '../auth/current-user.decorator.js';
import { NotificationsUserGuard } from '../auth/user-auth.guard.js';
import { UpdatePreferencesDto } from '../preferences/preferences.dto.js';
import { PreferencesService } from '../preferences/preferences.service.js';
import { PreferencesPatchPipe } from './preferences-patch.pipe.js';

/** The signed-in user's delivery preferences per category. */
@Controller('v1/me')
@UseGuards(NotificationsUserGuard)
export class PreferencesController {
  constructor(private readonly preferences: PreferencesService) {}

  @Get('preferences')
  get(@NotificationsUserId() userId: string): Promise<NotificationPreferences> {
    return this.preferences.get(userId);
  }

  /** Changes the settings named in the body; answers the whole preferences after the change. */
  @Patch('preferences')
  update(
    @NotificationsUserId() userId: string,
    @Body(PreferencesPatchPipe) body: UpdatePreferencesDto,
  ): Promise<NotificationPreferences> {
    return this.preferences.update(userId, body);
  }
}
