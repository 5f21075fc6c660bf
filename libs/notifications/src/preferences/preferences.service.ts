import { Injectable } from '@nestjs/common';
import {
  MAX_PREFERENCE_CATEGORIES,
  type CategoryPreference,
  type NotificationPreferences,
  type NotificationPreferencesPatch,
} from '@rtnotify/protocol';
import type { Result } from 'ioredis';
import { InvalidPreferencesError } from '../errors/invalid-preferences.error.js';
import { NotificationsUnavailableError } from '../errors/notifications-unavailable.error.js';
import { NotificationsSettings } from '../notifications.settings.js';
import { isCluster, type RedisConnection } from '../storage/cluster-connection.js';
import { NotificationsRedis } from '../storage/notifications-redis.js';
import { RedisKeys } from '../storage/redis-keys.js';
import { isTransientRedisError } from '../utils/transient-error.util.js';
import { withTimeout } from '../utils/with-timeout.util.js';
import { categoryPatchProblems } from './preferences.dto.js';
import { PREFERENCES_UPDATE_SCRIPT } from './preferences-script.js';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    notifPreferencesUpdate(key: string, ...args: (string | number)[]): Result<unknown[], Context>;
  }
}

/** The hash field of a category's in-app / fallback switch; "0" means off, no field means on. */
const IN_APP = 'i:';
const FALLBACK = 'f:';

/** The stored fields (`i:<category>` / `f:<category>` → "0") as the preferences object. */
export function preferencesOf(fields: Record<string, string>): NotificationPreferences {
  const entries = new Map<string, CategoryPreference>();
  for (const [field, value] of Object.entries(fields)) {
    const prefix = field.slice(0, 2);
    if ((prefix !== IN_APP && prefix !== FALLBACK) || value !== '0') continue;
    const name = field.slice(2);
    const entry = entries.get(name) ?? { inApp: true, fallback: true };
    if (prefix === IN_APP) entry.inApp = false;
    else entry.fallback = false;
    entries.set(name, entry);
  }
  // fromEntries defines own properties: a category named `__proto__` stays data.
  return { categories: Object.fromEntries([...entries].sort(([a], [b]) => a.localeCompare(b))) };
}

/**
 * Each user's delivery preferences per category: in-app (a notification of a category turned off is
 * neither stored nor delivered) and fallback (no `fallback` job for it), both on by default. Jobs
 * with `critical: true` ignore them. Kept in Redis beside the user's history (same hash tag).
 */
@Injectable()
export class PreferencesService {
  private readonly redis: RedisConnection;
  private readonly keys: RedisKeys;

  constructor(
    private readonly connection: NotificationsRedis,
    private readonly settings: NotificationsSettings,
  ) {
    this.redis = connection.client;
    this.keys = new RedisKeys(settings.keyPrefix, isCluster(this.redis));
    this.redis.defineCommand('notifPreferencesUpdate', {
      numberOfKeys: 1,
      lua: PREFERENCES_UPDATE_SCRIPT,
    });
  }

  /**
   * Every category with a stored setting (any other one is `{inApp: true, fallback: true}`).
   * @throws NotificationsUnavailableError while Redis is unreachable (503 over HTTP)
   */
  async get(userId: string): Promise<NotificationPreferences> {
    const key = this.keys.forUser(userId).preferences;
    return preferencesOf(await this.whileAvailable(() => this.redis.hgetall(key)));
  }

  /**
   * Changes the settings named in `patch` (at most 100 categories; a setting left out keeps its
   * value) and answers the whole preferences after the change. Throws `InvalidPreferencesError`
   * (and changes nothing) for a bad category name or setting, or when more than
   * `MAX_PREFERENCE_CATEGORIES` (1000) categories would have a setting; `NotificationsUnavailableError` while
   * Redis is unreachable (the change may then have been made or not: a repeat is harmless).
   */
  async update(
    userId: string,
    patch: NotificationPreferencesPatch,
  ): Promise<NotificationPreferences> {
    const problems = categoryPatchProblems(
      (patch as Partial<NotificationPreferencesPatch>)?.categories,
    );
    if (problems.length > 0) throw new InvalidPreferencesError(problems);
    const off: string[] = [];
    const on: string[] = [];
    for (const [name, setting] of Object.entries(patch.categories)) {
      if (setting.inApp !== undefined) (setting.inApp ? on : off).push(IN_APP + name);
      if (setting.fallback !== undefined) (setting.fallback ? on : off).push(FALLBACK + name);
    }
    const key = this.keys.forUser(userId).preferences;
    // One script on one key (one slot on a cluster): the answer is the state right after it.
    const [applied, ...rest] = await this.whileAvailable(() =>
      this.redis.notifPreferencesUpdate(key, MAX_PREFERENCE_CATEGORIES, off.length, ...off, ...on),
    );
    if (applied !== 1) {
      throw new InvalidPreferencesError([
        `at most ${MAX_PREFERENCE_CATEGORIES} categories may have a setting; this change would ` +
          `leave ${String(rest[0])} (turn some back on first)`,
      ]);
    }
    const fields: Record<string, string> = {};
    for (let i = 0; i < rest.length; i += 2) fields[String(rest[i])] = String(rest[i + 1]);
    return preferencesOf(fields);
  }

  /** `command` with Redis unreachable (or too slow) as NotificationsUnavailableError, as presence. */
  private async whileAvailable<T>(command: () => Promise<T>): Promise<T> {
    const timeoutMs = this.settings.enqueueTimeoutMs;
    await this.connection.whenAvailable(timeoutMs);
    try {
      return await withTimeout(command(), timeoutMs, () => new NotificationsUnavailableError());
    } catch (error) {
      if (isTransientRedisError(error)) throw new NotificationsUnavailableError();
      throw error;
    }
  }
}
