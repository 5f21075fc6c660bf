import { backoffDelay, checkBackoff, DEFAULT_BACKOFF } from './backoff.js';

describe(backoffDelay.name, () => {
  const options = { baseMs: 1000, capMs: 30_000 };

  it('defaults to 1 s doubling up to a 30 s cap', () => {
    expect(DEFAULT_BACKOFF).toEqual({ baseMs: 1000, capMs: 30_000 });
  });

  it.each([
    [0, 1000],
    [1, 2000],
    [2, 4000],
    [3, 8000],
    [4, 16_000],
    [5, 30_000],
    [6, 30_000],
    [60, 30_000],
    [5000, 30_000],
  ])('attempt %i waits below min(cap, base * 2^attempt) = %i', (attempt, ceiling) => {
    expect(backoffDelay(attempt, options, () => 0)).toBe(0);
    expect(backoffDelay(attempt, options, () => 0.5)).toBe(ceiling / 2);
    const highest = backoffDelay(attempt, options, () => 0.999_999);
    expect(highest).toBeLessThan(ceiling);
    expect(highest).toBeGreaterThanOrEqual(ceiling - 1);
  });

  it('spreads waits over the whole range (full jitter)', () => {
    const draws = [0.1, 0.35, 0.6, 0.85];
    const waits = draws.map((draw) => backoffDelay(3, options, () => draw));

    expect(waits).toEqual([800, 2800, 4800, 6800]);
  });

  it('stays within bounds with the real random source', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      for (let n = 0; n < 50; n++) {
        const wait = backoffDelay(attempt, options);
        expect(wait).toBeGreaterThanOrEqual(0);
        expect(wait).toBeLessThan(Math.min(30_000, 1000 * 2 ** attempt));
      }
    }
  });

  it('treats a negative or non-finite attempt as the first', () => {
    expect(backoffDelay(-3, options, () => 0.5)).toBe(500);
    expect(backoffDelay(Number.NaN, options, () => 0.5)).toBe(500);
  });

  it('clamps a random source that strays out of [0, 1]', () => {
    expect(backoffDelay(0, options, () => 7)).toBe(1000);
    expect(backoffDelay(0, options, () => -1)).toBe(0);
  });
});

describe(checkBackoff.name, () => {
  it('accepts positive values with cap >= base', () => {
    expect(checkBackoff({ baseMs: 200, capMs: 200 })).toEqual({ baseMs: 200, capMs: 200 });
  });

  it.each([
    { baseMs: 0, capMs: 100 },
    { baseMs: -1, capMs: 100 },
    { baseMs: 500, capMs: 100 },
    { baseMs: Number.NaN, capMs: 100 },
    { baseMs: 100, capMs: Number.POSITIVE_INFINITY },
  ])('rejects %j', (options) => {
    expect(() => checkBackoff(options)).toThrow(TypeError);
  });
});
