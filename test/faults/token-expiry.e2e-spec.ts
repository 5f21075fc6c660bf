import { connect, type StateEvent } from '@rtnotify/client';
import WebSocket from 'ws';
import { eventually } from '../kit/timing.mjs';
import { startTestApp, type TestApp } from '../kit/test-app.js';
import { signToken } from '../kit/tokens.mjs';

describe('faults: a token that expires during a long connection (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ TOKEN_EXPIRY_GRACE_MS: '500' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('is closed with 4401 at expiry (plus the grace), and a client with a token function comes back with a fresh one', async () => {
    let issued = 0;
    const firstExpiry = Math.floor(Date.now() / 1000) + 2;
    const client = connect({
      url: t.wsUrl,
      WebSocket: WebSocket as never,
      backoff: { baseMs: 50, capMs: 200 },
      token: () => signToken('long-session', { expiresIn: issued++ === 0 ? firstExpiry : '1h' }),
    });
    const states: StateEvent[] = [];
    const received: string[] = [];
    let readies = 0;
    client.on('state', (state) => states.push(state));
    client.on('ready', () => readies++);
    client.on('notification', ({ notification }) => received.push(notification.type));
    try {
      await eventually(() => readies === 1, 5000, 'first ready');
      await eventually(() => readies === 2, 10_000, 'ready again with a fresh token');
      const closed = states.find((s) => s.state === 'closed');
      expect(closed?.code).toBe(4401);
      expect(Date.now()).toBeGreaterThanOrEqual(firstExpiry * 1000 + 500);
      expect(issued).toBe(2);
      await t.producer.add('notify', { userId: 'long-session', type: 'after.refresh' });
      await eventually(
        () => received.includes('after.refresh'),
        5000,
        'delivery after the refresh',
      );
    } finally {
      client.close();
    }
  });
});
