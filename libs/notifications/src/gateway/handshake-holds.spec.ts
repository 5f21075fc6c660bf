import { HANDSHAKE_HOLD_MS, HandshakeHolds } from './handshake-holds.js';

describe(HandshakeHolds.name, () => {
  const recordingStream = (log: string[], name: string) => ({
    cork: () => log.push(`cork ${name}`),
    uncork: () => log.push(`uncork ${name}`),
  });

  it('gives the connect the batch that holds its stream, which the connect ends', () => {
    const log: string[] = [];
    const sut = new HandshakeHolds();
    const stream = recordingStream(log, 'a');

    sut.hold(stream, 0);
    const batch = sut.batchOf(stream);
    expect(batch.isHolding).toBe(true);
    batch.end();
    sut.releaseOverdue(HANDSHAKE_HOLD_MS * 10);

    expect(log).toEqual(['cork a', 'uncork a']);
  });

  it('lets go of a hold once it is HANDSHAKE_HOLD_MS old, on the next tick, and not before', () => {
    const log: string[] = [];
    const sut = new HandshakeHolds();
    const slow = recordingStream(log, 'slow');
    const late = recordingStream(log, 'late');
    sut.hold(slow, 1000);
    sut.hold(late, 1050);

    sut.releaseOverdue(1000 + HANDSHAKE_HOLD_MS - 1);
    expect(log).toEqual(['cork slow', 'cork late']);
    sut.releaseOverdue(1000 + HANDSHAKE_HOLD_MS);
    expect(log).toEqual(['cork slow', 'cork late', 'uncork slow']);

    // The slow connect's batch no longer holds: its end does nothing, its frames go as they come.
    expect(sut.batchOf(slow).isHolding).toBe(false);
    sut.batchOf(slow).end();
    sut.releaseOverdue(1050 + HANDSHAKE_HOLD_MS);
    expect(log).toEqual(['cork slow', 'cork late', 'uncork slow', 'uncork late']);
  });

  it('a stream it does not hold (or no longer tracks) gets a batch that does not hold', () => {
    const log: string[] = [];
    const sut = new HandshakeHolds();
    const stream = recordingStream(log, 'a');

    const batch = sut.batchOf(stream);
    expect(batch.isHolding).toBe(false);
    batch.end();

    expect(log).toEqual([]);
  });
});
