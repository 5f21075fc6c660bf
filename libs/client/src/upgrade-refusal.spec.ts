import { closeOfRefusal, upgradeRefusalOf } from './upgrade-refusal.js';

describe(upgradeRefusalOf.name, () => {
  it('reads the status of an error event from ws', () => {
    expect(upgradeRefusalOf({ message: 'Unexpected server response: 401' })).toBe(401);
    expect(upgradeRefusalOf({ error: new Error('Unexpected server response: 403') })).toBe(403);
  });

  it('is undefined for other errors, and for a browser error event', () => {
    expect(upgradeRefusalOf({ message: 'connect ECONNREFUSED 127.0.0.1:1' })).toBeUndefined();
    expect(upgradeRefusalOf({ type: 'error' })).toBeUndefined();
    expect(upgradeRefusalOf(undefined)).toBeUndefined();
    expect(upgradeRefusalOf('Unexpected server response: 401')).toBeUndefined();
  });
});

describe(closeOfRefusal.name, () => {
  const dropped = { code: 1006, reason: '' };

  it('turns 401 into 4401 and 403 into 4403', () => {
    expect(closeOfRefusal(401, dropped)).toEqual({
      code: 4401,
      reason: 'upgrade refused (HTTP 401)',
    });
    expect(closeOfRefusal(403, dropped)).toMatchObject({ code: 4403 });
  });

  it('keeps the close as it came otherwise', () => {
    expect(closeOfRefusal(undefined, dropped)).toBe(dropped);
    expect(closeOfRefusal(503, dropped)).toBe(dropped);
  });
});
