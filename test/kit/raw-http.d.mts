export interface RawExchange {
  /** The status of the server's answer, if one came. */
  status?: number;
  /** Everything the server sent (latin1). */
  answer: string;
  /** When the server closed the connection, in ms after the first write (undefined: it did not). */
  closedAfterMs?: number;
}

/**
 * Writes `head` on a raw TCP connection to 127.0.0.1 (and `drip()` every `dripMs`); resolves when
 * the server closes it, after `timeoutMs` (5 s), or with `untilHead` once an answer's head is in.
 */
export function rawExchange(
  port: number,
  head: string,
  options?: { timeoutMs?: number; drip?: () => string; dripMs?: number; untilHead?: boolean },
): Promise<RawExchange>;

/** The head of a WebSocket upgrade request for `path`, with `extraHeaders`. */
export function upgradeHead(path: string, extraHeaders?: string[]): string;
