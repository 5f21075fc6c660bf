import { Injectable } from '@nestjs/common';

/** What the registry needs of a connection. */
export interface RegisteredConnection {
  readonly userId: string;
}

/**
 * Which connections each user has open on this instance. Connections simply come and go: a refreshed
 * page adds a new one and its old one is removed when it closes.
 */
@Injectable()
export class ConnectionRegistry<C extends RegisteredConnection = RegisteredConnection> {
  private readonly byUser = new Map<string, Set<C>>();
  private total = 0;

  /**
   * Adds a connection unless its user already has `maxPerUser` open here.
   * @returns whether it was added
   */
  add(connection: C, maxPerUser = Number.POSITIVE_INFINITY): boolean {
    let connections = this.byUser.get(connection.userId);
    if (connections?.has(connection)) return true;
    if ((connections?.size ?? 0) >= maxPerUser) return false;
    if (!connections) {
      connections = new Set();
      this.byUser.set(connection.userId, connections);
    }
    connections.add(connection);
    this.total += 1;
    return true;
  }

  /** Removes a connection; removing one twice, or one never added, is harmless. */
  remove(connection: C): boolean {
    const connections = this.byUser.get(connection.userId);
    if (!connections?.delete(connection)) return false;
    this.total -= 1;
    if (connections.size === 0) this.byUser.delete(connection.userId);
    return true;
  }

  /** The user's open connections here (empty when none). */
  connectionsOf(userId: string): ReadonlySet<C> {
    return this.byUser.get(userId) ?? new Set();
  }

  /** How many connections the user has open here. */
  countOf(userId: string): number {
    return this.byUser.get(userId)?.size ?? 0;
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
    for (const connections of this.byUser.values()) yield* connections;
  }
}
