/** A listener of the event `K` of the event map `E`. */
export type Listener<E, K extends keyof E> = (data: E[K]) => void;

/**
 * A minimal typed event emitter with no dependency, for browsers and Node alike. A listener that
 * throws does not stop the others: its error is reported asynchronously.
 */
export class TypedEmitter<E extends object> {
  private readonly listeners = new Map<keyof E, Set<Listener<E, any>>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof E>(event: K, listener: Listener<E, K>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  /** Adds a listener called at most once; returns a function that removes it. */
  once<K extends keyof E>(event: K, listener: Listener<E, K>): () => void {
    const off = this.on(event, (data) => {
      off();
      listener(data);
    });
    return off;
  }

  off<K extends keyof E>(event: K, listener: Listener<E, K>): void {
    this.listeners.get(event)?.delete(listener);
  }

  protected emit<K extends keyof E>(event: K, data: E[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    // NOTE: a snapshot, so that listeners added or removed by a listener take effect next time.
    for (const listener of Array.from(set)) {
      try {
        listener(data);
      } catch (error) {
        reportListenerError(error);
      }
    }
  }
}

function reportListenerError(error: unknown): void {
  const report = (globalThis as { reportError?: (error: unknown) => void }).reportError;
  if (typeof report === 'function') report(error);
  else
    setTimeout(() => {
      throw error;
    }, 0);
}
