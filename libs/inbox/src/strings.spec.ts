import { DEFAULT_STRINGS, mergeStrings, relativeTime } from './strings.js';

describe('inbox strings', () => {
  it('keeps the defaults a host leaves out, one level deep', () => {
    const merged = mergeStrings({ heading: 'Mitteilungen', tabs: { inbox: 'Eingang' } as never });
    expect(merged.heading).toBe('Mitteilungen');
    expect(merged.tabs).toEqual({ inbox: 'Eingang', unread: 'Unread', archived: 'Archived' });
    expect(merged.markRead).toBe(DEFAULT_STRINGS.markRead);
    expect(mergeStrings(undefined)).toBe(DEFAULT_STRINGS);
    expect(mergeStrings({ preferenceSettings: { fallback: 'E-Mail' } as never })).toMatchObject({
      preferenceSettings: { inApp: 'In-app', fallback: 'E-Mail' },
    });
  });

  it('names the count in the bell label', () => {
    expect(DEFAULT_STRINGS.bellLabel(0)).toBe('Notifications');
    expect(DEFAULT_STRINGS.bellLabel(3)).toBe('Notifications, 3 new');
  });

  it.each([
    [-3_000, 'en', 'now'],
    [-150_000, 'en', '2 minutes ago'],
    [-3 * 3600_000, 'en', '3 hours ago'],
    [-86_400_000, 'en', 'yesterday'],
    [-86_400_000, 'de', 'gestern'],
    [-14 * 86_400_000, 'en', '2 weeks ago'],
  ])('relative time %d ms in %s: %s', (offset, locale, expected) => {
    const now = new Date('2026-12-05T12:00:00Z');
    expect(relativeTime(new Date(now.getTime() + offset), now, locale)).toBe(expected);
  });
});
