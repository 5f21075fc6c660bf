import type { Frame, TestClient } from '../../kit/ws-client.js';
import { expectCleanError, frameVerdict } from './oracles.js';

/** One frame, then a marker ping: everything between is the frame's answer. */

let markerSeq = 0;

export async function exchange(
  client: TestClient,
  raw: string | Buffer,
  binary = false,
): Promise<Frame[]> {
  const marker = 1e9 + ++markerSeq;
  const start = client.frames.length;
  client.sendRaw(raw, binary);
  client.send('ping', { ts: marker });
  for (;;) {
    const pong = await client.next('pong', 5000);
    if (pong.ts === marker) break;
  }
  const end = client.frames.findIndex(
    (frame, i) => i >= start && frame.event === 'pong' && frame.data.ts === marker,
  );
  return client.frames.slice(start, end);
}

/** Sends `text` and checks the one answer the README's protocol calls for. */
export async function expectAnswered(client: TestClient, text: string): Promise<void> {
  const verdict = frameVerdict(Buffer.from(text).toString('utf8'));
  const answers = await exchange(client, text);
  expect(answers, `answers to ${text.slice(0, 200)}`).toHaveLength(1);
  if (verdict === 'pong') {
    const ts = (JSON.parse(text) as { data?: { ts?: number } | null }).data?.ts;
    expect(answers[0]).toEqual({ event: 'pong', data: ts === undefined ? {} : { ts: ts + 0 } });
  } else {
    expectCleanError(answers[0], verdict);
  }
}
