import { Injectable } from '@nestjs/common';
import { WriteBatch, type Corkable } from './client-connection.js';

/**
 * Longest an accepted upgrade's answer is held back for the socket's first frames (see
 * HandshakeHolds); a connect that takes longer lets it go on the next heartbeat tick.
 */
export const HANDSHAKE_HOLD_MS = 100;

interface Hold {
  batch: WriteBatch;
  since: number;
}

/**
 * The answers to accepted upgrades (`101 Switching Protocols`), each held back so that it goes to
 * the kernel in one write with the socket's first frames (its replay, if any, and `ready`), not in
 * a write of its own. The client reads them together too.
 *
 * The upgraded TCP stream is corked when the upgrade is accepted (`hold`, from ws's `verifyClient`,
 * before ws writes the `101`). The connect ends the hold once `ready` is sent, or once it failed
 * or was refused (`batchOf` gives it the hold's batch). A connect that takes longer than
 * HANDSHAKE_HOLD_MS lets it go on the heartbeat's next tick (`releaseOverdue`): one that waits for
 * Redis (away, or slow) gets its `101` and its pings then, as it would without the hold.
 */
@Injectable()
export class HandshakeHolds {
  /** By the upgraded stream; ended holds stay until the next `releaseOverdue`. */
  private readonly holds = new Map<Corkable, Hold>();

  /** Holds back what is written to `stream` from now on. */
  hold(stream: Corkable, now = Date.now()): void {
    if (this.holds.get(stream)?.batch.isHolding) return;
    this.holds.set(stream, { batch: new WriteBatch(stream).hold(), since: now });
  }

  /** The batch that holds the stream's writes, or a new batch of the stream that does not hold. */
  batchOf(stream: Corkable): WriteBatch {
    return this.holds.get(stream)?.batch ?? new WriteBatch(stream);
  }

  /**
   * Lets go of the holds older than HANDSHAKE_HOLD_MS, and forgets those that ended (a stream
   * whose upgrade went no further, destroyed before its connect began, is let go this way too).
   */
  releaseOverdue(now = Date.now()): void {
    for (const [stream, { batch, since }] of this.holds) {
      if (batch.isHolding && now - since < HANDSHAKE_HOLD_MS) continue;
      batch.end();
      this.holds.delete(stream);
    }
  }
}
