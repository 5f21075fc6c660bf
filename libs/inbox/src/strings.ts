/** What a tab of the panel lists: the inbox (not archived), the unread ones, the archived ones. */
export type InboxTab = 'inbox' | 'unread' | 'archived';

/**
 * Every string the component shows or says to assistive technology. A host replaces any of them
 * (for another language, say) through the `strings` property; what it leaves out stays English.
 */
export interface InboxStrings {
  /** The bell button's accessible name, with the unseen count. */
  bellLabel: (unseen: number) => string;
  /** The panel's heading. */
  heading: string;
  tabs: Record<InboxTab, string>;
  /** The accessible name of the tab list. */
  tabsLabel: string;
  /** The accessible name of the category filter. */
  categoriesLabel: string;
  /** The filter chip that shows every category. */
  allCategories: string;
  /** A category's name on its chip (by default the category as sent). */
  categoryName: (category: string) => string;
  /** The accessible name of a count (unread) beside a tab or a chip. */
  unreadCount: (count: number) => string;
  markAllRead: string;
  markRead: string;
  markUnread: string;
  archive: string;
  unarchive: string;
  /** Read by assistive technology for an unread item. */
  unread: string;
  /** The marker of a notification that stands for several collapsed into one. */
  collapsed: (count: number) => string;
  close: string;
  loading: string;
  loadMore: string;
  empty: Record<InboxTab, string>;
  emptyHint: string;
  offline: string;
  error: string;
  retry: string;
  /** What the polite live region says when a notification arrives. */
  announce: (title: string) => string;
  /** The button that opens the preferences. */
  preferences: string;
  /** The panel's heading while it shows the preferences. */
  preferencesHeading: string;
  /** The button that goes back from the preferences to the notifications. */
  back: string;
  /** Above the preferences: what the switches do. */
  preferencesHint: string;
  /** The two switches of each category. */
  preferenceSettings: Record<'inApp' | 'fallback', string>;
  preferencesLoading: string;
  preferencesError: string;
  /** No category is known yet. */
  preferencesEmpty: string;
  /** Said (an alert) when the server refused a change; the switch is back to its saved value. */
  preferencesSaveFailed: (category: string) => string;
  /** Relative time of an item; by default `Intl.RelativeTimeFormat` in the element's language. */
  relativeTime?: (date: Date, now: Date) => string;
}

export const DEFAULT_STRINGS: InboxStrings = {
  bellLabel: (unseen) => (unseen === 0 ? 'Notifications' : `Notifications, ${unseen} new`),
  heading: 'Notifications',
  tabs: { inbox: 'Inbox', unread: 'Unread', archived: 'Archived' },
  tabsLabel: 'Which notifications',
  categoriesLabel: 'Category',
  allCategories: 'All',
  categoryName: (category) => category,
  unreadCount: (count) => `${count} unread`,
  markAllRead: 'Mark all read',
  markRead: 'Mark read',
  markUnread: 'Mark unread',
  archive: 'Archive',
  unarchive: 'Move to inbox',
  unread: 'Unread',
  collapsed: (count) => `${count} notifications`,
  close: 'Close',
  loading: 'Loading notifications…',
  loadMore: 'Load older',
  empty: {
    inbox: 'You are all caught up',
    unread: 'Nothing unread',
    archived: 'Nothing archived',
  },
  emptyHint: 'New notifications appear here as they arrive.',
  offline: 'Offline: showing saved notifications. They update when the connection is back.',
  error: 'Notifications could not be loaded.',
  retry: 'Try again',
  announce: (title) => `New notification: ${title}`,
  preferences: 'Preferences',
  preferencesHeading: 'Notification preferences',
  back: 'Back to notifications',
  preferencesHint: 'By category: in the app, and by email or push when one stays unread.',
  preferenceSettings: { inApp: 'In-app', fallback: 'Email or push' },
  preferencesLoading: 'Loading preferences…',
  preferencesError: 'Preferences could not be loaded.',
  preferencesEmpty: 'No categories yet: they appear here once notifications have them.',
  preferencesSaveFailed: (category) => `Your change to ${category} could not be saved.`,
};

/** The defaults with a host's replacements (one level deep, so `tabs: {inbox}` keeps the others). */
export function mergeStrings(partial: Partial<InboxStrings> | undefined): InboxStrings {
  if (!partial) return DEFAULT_STRINGS;
  return {
    ...DEFAULT_STRINGS,
    ...partial,
    tabs: { ...DEFAULT_STRINGS.tabs, ...partial.tabs },
    empty: { ...DEFAULT_STRINGS.empty, ...partial.empty },
    preferenceSettings: { ...DEFAULT_STRINGS.preferenceSettings, ...partial.preferenceSettings },
  };
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 86_400],
  ['month', 30 * 86_400],
  ['week', 7 * 86_400],
  ['day', 86_400],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
];

/** "3 minutes ago", "yesterday", "now" in `locale`. */
export function relativeTime(date: Date, now: Date, locale: string | undefined): string {
  const seconds = Math.round((date.getTime() - now.getTime()) / 1000);
  const format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === 'second') {
      const value = unit === 'second' && Math.abs(seconds) < 10 ? 0 : Math.round(seconds / size);
      return format.format(value, unit);
    }
  }
  return '';
}
