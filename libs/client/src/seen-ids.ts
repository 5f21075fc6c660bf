/** The last `capacity` ids seen, oldest forgotten first: enough to drop a replayed duplicate. */
export class SeenIds {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity = 1000) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Remembers `id`; returns false when it was already remembered. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next();
      if (!oldest.done) this.ids.delete(oldest.value);
    }
    return true;
  }

  get size(): number {
    return this.ids.size;
  }
}
