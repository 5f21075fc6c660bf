import { parseNotificationId } from '@rtnotify/protocol';
import { newEpoch } from './epoch.util.js';

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
