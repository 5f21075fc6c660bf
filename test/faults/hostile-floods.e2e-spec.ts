import { isNewerNotificationId } from '@rtnotify/protocol';
import { metricValue, scrapeMetrics } from '../kit/http.mjs';
import type { TestApp } from '../kit/test-app.js';
import { eventually, sleep } from '../kit/timing.mjs';
import { signToken } from '../kit/tokens.mjs';
import { TestClient } from '../kit/ws-client.js';
import { useDefaultLimitsApp } from './hostile/targets.js';

/**
 * Floods against an app with the default limits: a client that sends frames as fast as it can and
 * one that never reads are cut, and other users keep receiving.
 */

describe('hostile floods against an app with the default limits (e2e)', { timeout: 60_000 }, () => {
  const limited = useDefaultLimitsApp();
  let t: TestApp;
  beforeAll(() => {
    t = limited.app;
  });

  it('10,000 frames as fast as possible: 100 answered, then rate_limited and 4429; a bystander keeps receiving', async () => {
    const flooder = await TestClient.ready(t.wsUrl, { token: await signToken('flooder') });
    const bystander = await TestClient.ready(t.wsUrl, {
      token: await signToken('flood-bystander'),
    });
    const producing = (async () => {
      for (let i = 0; i < 20; i++) {
        await t.producer.add('notify', {
          userId: 'flood-bystander',
          type: 'during.flood',
          payload: { i },
        });
        await sleep(5);
      }
    })();
    const frame = JSON.stringify({ event: 'ping', data: {} });
    for (let i = 0; i < 10_000; i++) flooder.socket.send(frame);
    const closed = await flooder.waitClosed(10_000);
    expect(closed).toMatchObject({ code: 4429, reason: /too many messages/ });
    await producing;
    expect(flooder.all('pong')).toHaveLength(100);
    expect(flooder.all('error')).toEqual([{ code: 'rate_limited', message: expect.any(String) }]);
    expect(flooder.frames.at(-1)?.event).toBe('error');
    await eventually(
      () => bystander.all('notification').length >= 20,
      10_000,
      'bystander notifications',
    );
    // Each once, in store order. The 20 are separate jobs: with the default worker concurrency (32),
    // BullMQ may start one before a job added earlier, so store order need not be the order of add.
    const received = bystander.all('notification').map((data) => data.notification);
    expect(received.map((n) => n.payload.i).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
    expect(received.slice(1).map((n, k) => isNewerNotificationId(n.id, received[k].id))).toEqual(
      Array(19).fill(true),
    );
    bystander.send('ping', { ts: 1 });
    expect(await bystander.next('pong')).toEqual({ ts: 1 });
    // The flooder's user may connect again, with a fresh budget.
    const again = await TestClient.ready(t.wsUrl, { token: await signToken('flooder') });
    again.send('ping', { ts: 2 });
    expect(await again.next('pong')).toEqual({ ts: 2 });
    await Promise.all([again.close(), bystander.close()]);
  });

  it('a client that never reads is closed (4008) while another user keeps receiving', async () => {
    const closed4008 = async () =>
      metricValue(
        await scrapeMetrics(t.httpUrl),
        'notifications_closed_connections_total{code="4008"}',
        0,
      );
    const before = await closed4008();
    const slow = await TestClient.ready(t.wsUrl, { token: await signToken('never-reads') });
    const normal = await TestClient.ready(t.wsUrl, { token: await signToken('reads-on') });
    slow.socket.pause();
    const blob = 'x'.repeat(12 * 1024);
    let batches = 0;
    while ((await closed4008()) === before && batches < 100) {
      await t.producer.addBulk(
        Array.from({ length: 20 }, (_, k) => ({
          name: 'notify',
          data: { userId: 'never-reads', type: 'big.one', payload: { k, blob } },
        })),
      );
      await t.producer.add('notify', {
        userId: 'reads-on',
        type: 'small.one',
        payload: { i: batches },
      });
      await normal.next('notification', 10_000);
      batches++;
    }
    expect(await closed4008()).toBe(before + 1);
    slow.socket.resume();
    expect((await slow.waitClosed(10_000)).code).toBe(4008);
    expect(normal.all('notification').map((data) => data.notification.payload.i)).toEqual(
      Array.from({ length: batches }, (_, i) => i),
    );
    console.log(`[hostile-floods] slow consumer closed after ${batches} batches of 20 × 12 KiB`);
    await normal.close();
  });
});
