import { isWellFormedId } from './well-formed-id.util.js';

describe(isWellFormedId.name, () => {
  it.each(['u1', 'ada@example.com', 'é中', '😀', 'a\u0000b', 'x'.repeat(128)])(
    'accepts %j',
    (id) => {
      expect(isWellFormedId(id)).toBe(true);
    },
  );

  it.each([
    ['a lone high surrogate', '\ud800'],
    ['a lone low surrogate', '\udfff'],
    ['one inside an id', 'user-\ud83d-1'],
    ['a reversed pair', '\ude00\ud83d'],
    ['U+FFFD', '\ufffd'],
    ['U+FFFD inside an id', 'a\ufffdb'],
  ])('refuses %s', (_, id) => {
    expect(isWellFormedId(id)).toBe(false);
  });

  it('refuses exactly the ids whose UTF-8 round trip is not the identity, or that hold U+FFFD', () => {
    for (let code = 0xd700; code <= 0xe000; code += 7) {
      const id = `u${String.fromCharCode(code)}`;
      const roundTrip = Buffer.from(id, 'utf8').toString('utf8');
      expect(isWellFormedId(id)).toBe(roundTrip === id && !id.includes('\ufffd'));
    }
  });
});
