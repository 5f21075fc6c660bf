import { WRITE_BATCH_MAX, WriteBatch } from './client-connection.js';

describe(WriteBatch.name, () => {
  const recordingStream = () => {
    const log: string[] = [];
    return { log, stream: { cork: () => log.push('cork'), uncork: () => log.push('uncork') } };
  };

  it('holds the writes until it ends, letting them go each time about WRITE_BATCH_MAX is held', () => {
    const { log, stream } = recordingStream();
    const batch = new WriteBatch(stream).hold();
    const third = Math.ceil(WRITE_BATCH_MAX / 3);
    for (let i = 0; i < 5; i++) {
      log.push('frame');
      batch.sent(third);
    }
    batch.end();

    // Let go after the third frame (at WRITE_BATCH_MAX), then what was left at the end.
    expect(log).toEqual([
      'cork',
      'frame',
      'frame',
      'frame',
      'uncork',
      'cork',
      'frame',
      'frame',
      'uncork',
    ]);
  });

  it('holds nothing until told to, holds once however often told, and ends once', () => {
    const { log, stream } = recordingStream();
    const batch = new WriteBatch(stream);
    batch.sent(WRITE_BATCH_MAX);
    batch.end();
    expect(log).toEqual([]);

    batch.hold();
    batch.hold();
    expect(batch.isHolding).toBe(true);
    batch.end();
    batch.end();
    expect(batch.isHolding).toBe(false);
    // Held again after it ended (a replay after its handshake was let go).
    batch.hold().end();
    expect(log).toEqual(['cork', 'uncork', 'cork', 'uncork']);
  });
});
