import { SLICE_MIN, SLICES, SlicedWalk } from './sliced-walk.util.js';

describe(SlicedWalk.name, () => {
  const walkOf = (items: Set<number>) =>
    new SlicedWalk(
      () => items.values(),
      () => items.size,
    );

  it('visits a small collection whole in one step, and starts over at the next', () => {
    const items = new Set([1, 2, 3]);
    const sut = walkOf(items);
    const seen: number[] = [];

    expect(sut.step((item) => seen.push(item))).toBe(true);
    expect(sut.step((item) => seen.push(item))).toBe(true);

    expect(seen).toEqual([1, 2, 3, 1, 2, 3]);
  });

  it('visits a large one a tenth per step (at least SLICE_MIN), each item once per walk', () => {
    expect([SLICE_MIN, SLICES]).toEqual([500, 10]);
    const items = new Set(Array.from({ length: 12_000 }, (_, i) => i));
    const sut = walkOf(items);
    const steps: number[][] = [];
    let ended = false;
    while (!ended) {
      const step: number[] = [];
      ended = sut.step((item) => step.push(item));
      steps.push(step);
    }

    expect(steps.map((step) => step.length)).toEqual([...Array(10).fill(1200), 0]);
    expect(steps.flat()).toEqual([...items]);
    // The next walk starts from the beginning.
    const next: number[] = [];
    sut.step((item) => next.push(item));
    expect(next.slice(0, 2)).toEqual([0, 1]);
  });

  it('sees what was added and skips what was removed between steps', () => {
    const items = new Set(Array.from({ length: 1_200 }, (_, i) => i));
    const sut = walkOf(items);
    const seen: number[] = [];
    sut.step((item) => seen.push(item));
    items.delete(600);
    items.add(5_000);
    while (!sut.step((item) => seen.push(item)));

    expect(seen).toHaveLength(1_200);
    expect(seen).not.toContain(600);
    expect(seen.at(-1)).toBe(5_000);
  });
});
