/** One category's delivery preferences of a user; both default to true. */
export interface CategoryPreference {
  /** Stored and delivered in the inbox (unless the job is `critical`). */
  inApp: boolean;
  /** A `fallback` job (email, push…) for it when it stays unread (unless the job is `critical`). */
  fallback: boolean;
}

/**
 * `GET /v1/me/preferences` and the answer of `PATCH`: every category with a stored setting (any other
 * category is `{inApp: true, fallback: true}`). Notifications without a category are not subject to
 * preferences.
 */
export interface NotificationPreferences {
  categories: Record<string, CategoryPreference>;
}

/** The body of `PATCH /v1/me/preferences`: only what changes; at most 100 categories. */
export interface NotificationPreferencesPatch {
  categories: Record<string, Partial<CategoryPreference>>;
}

/** Categories one `PATCH /v1/me/preferences` may name. */
export const MAX_PREFERENCE_CATEGORIES_PER_UPDATE = 100;

/** The route of the signed-in user's preferences (`GET`, `PATCH`), with the user's JWT. */
export const PREFERENCES_PATH = '/v1/me/preferences';

/**
 * Categories a user may have a setting for (anything turned off) at once: a change that would go
 * past it is refused (400), so a token holder cannot grow their preferences without bound.
 */
export const MAX_PREFERENCE_CATEGORIES = 1000;
