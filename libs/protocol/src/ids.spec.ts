import { isNewerNotificationId, parseNotificationId } from './ids.js';

describe(parseNotificationId.name, () => {
  it('parses epoch and sequence', () => {
    expect(parseNotificationId('abc123-1')).toEqual({ epoch: 'abc123', seq: 1 });
  });

  it('accepts the longest epoch and sequence', () => {
    const epoch = 'a'.repeat(16);
    expect(parseNotificationId(`${epoch}-123456789012345`)).toEqual({
      epoch,
      seq: 123_456_789_012_345,
    });
  });

  it('parses sequence 0, the position of an empty history', () => {
    expect(parseNotificationId('abc-0')).toEqual({ epoch: 'abc', seq: 0 });
  });

  it.each([
    ['an uppercase epoch', 'ABC-1'],
    ['a missing epoch', '-1'],
    ['a missing sequence', 'abc-'],
    ['an epoch of 17 chars', `${'a'.repeat(17)}-1`],
    ['two sequences', 'abc-1-2'],
    ['a sequence of 16 digits', 'abc-1234567890123456'],
    ['a leading zero', 'abc-01'],
    ['an empty string', ''],
  ])('rejects %s (%s)', (_, id) => {
    expect(parseNotificationId(id)).toBeUndefined();
  });
});

describe(isNewerNotificationId.name, () => {
  it('compares sequences within one epoch, numerically', () => {
    expect(isNewerNotificationId('abc-10', 'abc-9')).toBe(true);
    expect(isNewerNotificationId('abc-9', 'abc-10')).toBe(false);
    expect(isNewerNotificationId('abc-9', 'abc-9')).toBe(false);
  });

  it.each([
    ['different epochs', 'abc-2', 'xyz-1'],
    ['a malformed id', 'abc-2', 'nope'],
  ])('cannot tell for %s', (_, a, b) => {
    expect(isNewerNotificationId(a, b)).toBeUndefined();
  });
});
