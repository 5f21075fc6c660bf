/*
 * Delivery preferences of a user, per category (`GET` / `PATCH /v1/me/preferences`, with the user's
 * JWT). A category with no stored setting is on for both; a notification without a category is not
 * subject to preferences, and a `critical` one ignores them.
 */

/** The route of the signed-in user's preferences. */
export const PREFERENCES_PATH = '/v1/me/preferences';

/** One category's settings; both default to `true`. */
export interface CategoryPreferences {
  /** Stored and shown in the inbox; off: such notifications are neither stored nor delivered. */
  inApp: boolean;
  /** Handed to the host's fallback queue (email, push) when left unread; off: never. */
  fallback: boolean;
}

/**
 * The answer of `GET` and `PATCH /v1/me/preferences`: every category with a stored setting (any
 * other is on for both).
 */
export interface NotificationPreferences {
  categories: Record<string, CategoryPreferences>;
}

/**
 * The body of `PATCH /v1/me/preferences`: the settings to change, by category (`[a-z0-9._-]`, 1–64
 * characters, at most 100 per request); a setting left out keeps its value. Booleans only.
 */
export interface PreferencesPatch {
  categories: Record<string, Partial<CategoryPreferences>>;
}
