import { newEpoch, parseNotificationId } from './notification-id.util.js';

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

describe(newEpoch.name, () => {
  it('is 1-16 lowercase letters or digits', () => {
    expect(newEpoch()).toMatch(/^[a-z0-9]{1,16}$/);
  });

  it('differs between calls', () => {
    expect(newEpoch()).not.toBe(newEpoch());
  });

  it('can be parsed back as part of an id', () => {
    const epoch = newEpoch();
    expect(parseNotificationId(`${epoch}-7`)).toEqual({ epoch, seq: 7 });
  });
});
