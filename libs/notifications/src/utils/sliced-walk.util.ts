/** The least a step visits: below twice this many items, a walk is whole in one or two steps. */
export const SLICE_MIN = 500;
/** A walk of many items takes this many steps. */
export const SLICES = 10;

/**
 * Walks a live collection a slice per step, each step going on where the last one stopped: a tick
 * that must look at every socket of a large gateway looks at a tenth of them (at least SLICE_MIN),
 * and each socket is looked at every SLICES ticks. A step that reaches the end stops there, and the
 * next starts over. What is added or removed between steps is seen as the collection's own
 * iterator sees it (a Map's or a Set's visits what was added and skips what was removed).
 */
export class SlicedWalk<T> {
  private cursor: Iterator<T> | undefined;

  constructor(
    private readonly iterate: () => Iterator<T>,
    private readonly size: () => number,
  ) {}

  /** Visits the next slice; returns whether the walk reached the end (the next step starts over). */
  step(visit: (item: T) => void): boolean {
    const slice = Math.max(SLICE_MIN, Math.ceil(this.size() / SLICES));
    this.cursor ??= this.iterate();
    for (let i = 0; i < slice; i++) {
      const next = this.cursor.next();
      if (next.done) {
        this.cursor = undefined;
        return true;
      }
      visit(next.value);
    }
    return false;
  }
}
