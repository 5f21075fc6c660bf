import { Injectable } from '@nestjs/common';

/** What the registry needs of a connection. */
export interface RegisteredConnection {
  readonly userId: string;
}

/**
 * Which connections each user has open on this instance. Connections simply come and go: a refreshed
 * page adds a new one and its old one is removed when it closes.
 *
 * A user's only connection is held by itself, a set made only for a second one: most users have one
 * socket open, and a set would cost each of them about 170 bytes.
 */
@Injectable()
export class ConnectionRegistry<C extends RegisteredConnection = RegisteredConnection> {
  private readonly byUser = new Map<string, C | Set<C>>();
  private total = 0;

  /**
   * Adds a connection unless its user already has `maxPerUser` open here.
   * @returns whether it was added
   */
  add(connection: C, maxPerUser = Number.POSITIVE_INFINITY): boolean {
    const { userId } = connection;
    const held = this.byUser.get(userId);
    if (held === connection || (held instanceof Set && held.has(connection))) return true;
    if (sizeOf(held) >= maxPerUser) return false;
    if (held === undefined) this.byUser.set(userId, connection);
    else if (held instanceof Set) held.add(connection);
    else this.byUser.set(userId, new Set([held, connection]));
    this.total += 1;
    return true;
  }

  /** Removes a connection; removing one twice, or one never added, is harmless. */
  remove(connection: C): boolean {
    const { userId } = connection;
    const held = this.byUser.get(userId);
    if (held === connection) {
      this.byUser.delete(userId);
    } else if (held instanceof Set && held.delete(connection)) {
      // Back to one: held by itself again.
      if (held.size === 1) this.byUser.set(userId, held.values().next().value as C);
    } else {
      return false;
    }
    this.total -= 1;
    return true;
  }

  /**
   * The user's open connections here (empty when none). Not to be kept: it does not follow later
   * changes for a user with one connection.
   */
  connectionsOf(userId: string): ReadonlySet<C> {
    const held = this.byUser.get(userId);
    if (held instanceof Set) return held;
    return new Set(held === undefined ? [] : [held]);
  }

  /** Calls `visit` with each of the user's open connections here (no set made for a lone one). */
  forEachOf(userId: string, visit: (connection: C) => void): void {
    const held = this.byUser.get(userId);
    if (held === undefined) return;
    if (!(held instanceof Set)) return visit(held);
    for (const connection of held) visit(connection);
  }

  /** How many connections the user has open here. */
  countOf(userId: string): number {
    return sizeOf(this.byUser.get(userId));
  }

  /** Whether the user has a connection open here. */
  has(userId: string): boolean {
    return this.byUser.has(userId);
  }

  /** Open connections on this instance. */
  get connectionCount(): number {
    return this.total;
  }

  /** Users with at least one connection on this instance. */
  get userCount(): number {
    return this.byUser.size;
  }

  /** Every open connection on this instance. */
  *all(): IterableIterator<C> {
    for (const held of this.byUser.values()) {
      if (held instanceof Set) yield* held;
      else yield held;
    }
  }
}

function sizeOf<C>(held: C | Set<C> | undefined): number {
  if (held === undefined) return 0;
  return held instanceof Set ? held.size : 1;
}
