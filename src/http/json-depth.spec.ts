import { exceedsJsonDepth } from './json-depth.js';

const bytes = (text: string) => Buffer.from(text, 'utf8');
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe(exceedsJsonDepth.name, () => {
  it('counts a top-level object or array as level 1', () => {
    expect(exceedsJsonDepth(bytes('{}'), 1)).toBe(false);
    expect(exceedsJsonDepth(bytes('{"a":[]}'), 1)).toBe(true);
    expect(exceedsJsonDepth(bytes('{"a":[]}'), 2)).toBe(false);
    expect(exceedsJsonDepth(bytes('1'), 0)).toBe(false);
  });

  it('measures the deepest branch, not the sum of siblings', () => {
    expect(exceedsJsonDepth(bytes('[[1],[2],{"a":{"b":3}}]'), 3)).toBe(false);
    expect(exceedsJsonDepth(bytes('[[1],[2],{"a":{"b":[3]}}]'), 3)).toBe(true);
  });

  it('ignores brackets inside strings, also after escaped quotes and backslashes', () => {
    const text = JSON.stringify({ s: '[[[{{{"\\"[[[', t: '\\', u: '"[{' });
    expect(JSON.parse(text)).toBeTruthy();
    expect(exceedsJsonDepth(bytes(text), 1)).toBe(false);
    expect(exceedsJsonDepth(bytes('["\\u005b\\u005b", ["é中😀["]]'), 2)).toBe(false);
  });

  it('agrees with the depth of generated JSON', () => {
    for (let arrays = 0; arrays < 40; arrays += 3) {
      // An object around `arrays` nested arrays: arrays + 1 levels.
      const text = JSON.stringify({ a: JSON.parse(nested(arrays) || '0'), b: '[' });
      expect(exceedsJsonDepth(bytes(text), arrays + 1)).toBe(false);
      expect(exceedsJsonDepth(bytes(text), arrays)).toBe(true);
    }
  });

  it('stops early on a megabyte of brackets', () => {
    const huge = Buffer.alloc(1 << 20, '[');
    const startedAt = performance.now();
    expect(exceedsJsonDepth(huge, 64)).toBe(true);
    expect(exceedsJsonDepth(bytes(nested(100_000)), 64)).toBe(true);
    expect(performance.now() - startedAt).toBeLessThan(1000);
  });
});
