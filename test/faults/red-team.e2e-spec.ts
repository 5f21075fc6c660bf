import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inject } from 'vitest';
import { eventually } from '../support/eventually.js';
import { http } from '../support/http.js';
import { metricValue } from '../support/metrics.js';
import { startService, type ServiceProcess } from '../support/service-process.js';
import { TEST_JWT_SECRET, signToken } from '../support/tokens.js';
import { TestClient } from '../support/ws-client.js';

/**
 * The cases of a black-box red-team pass against the built service (issue 10), each answered with a
 * clear refusal that harms no one else. Each test prints what it measured.
 */

const API_KEY = 'red-team-api-key-0123456789abcdef';
const STACK_LINE = /\n\s+at /;

/** Resident set size of a process, from /proc (KiB). */
function vmRssKiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]);
}

describe('red-team cases against the built service (e2e)', { timeout: 60_000 }, () => {
  let s: ServiceProcess;
  let canary: TestClient;
  let canarySeq = 0;
  const open: TestClient[] = [];
  const queueName = `red-team-${randomBytes(4).toString('hex')}`;

  async function ready(sub: string): Promise<TestClient> {
    const client = TestClient.connect(s.wsUrl, { token: await signToken(sub) });
    open.push(client);
    await client.next('ready');
    return client;
  }

  async function metrics(): Promise<string> {
    return (await http('GET', `${s.httpUrl}/metrics`)).body as string;
  }

  /** The canary user gets a notification published now, on its socket opened at the start. */
  async function canaryCheck(): Promise<void> {
    const n = ++canarySeq;
    const published = await http('POST', `${s.httpUrl}/v1/notifications`, {
      token: API_KEY,
      body: { userId: 'canary', type: 'canary.tick', payload: { n } },
    });
    expect(published.status).toBe(202);
    await eventually(
      () => canary.all('notification').some((data) => data.notification.payload.n === n),
      10_000,
      `canary notification ${n}`,
    );
  }

  beforeAll(async () => {
    s = await startService({
      NODE_ENV: 'production',
      JWT_SECRET: TEST_JWT_SECRET,
      REDIS_URL: inject('redisUrl'),
      API_KEYS: API_KEY,
      NOTIFY_QUEUE: queueName,
      KEY_PREFIX: queueName,
      // The heartbeat alone would drop a socket that never reads within 35 s; here it cannot be
      // what cuts the flooder.
      PING_INTERVAL_MS: '60000',
      PING_TIMEOUT_MS: '30000',
    });
    canary = await TestClient.ready(s.wsUrl, { token: await signToken('canary') });
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((client) => client.close()));
    await canaryCheck();
  });

  afterAll(async () => {
    await canary?.close();
    const log = s?.output() ?? '';
    await s?.stop('SIGKILL');
    expect(log).not.toMatch(STACK_LINE);
    expect(log).not.toContain(TEST_JWT_SECRET);
  });

  describe('1. ping flood', () => {
    it('a socket that never reads and floods pings is cut within seconds, and the service memory stays put', async () => {
      const pings = 300_000;
      const flooder = await ready('ping-flooder');
      const bystander = await ready('ping-bystander');
      const openBefore = metricValue(await metrics(), 'notifications_open_sockets');
      (flooder.socket as unknown as { _socket: { pause(): void } })._socket.pause();
      const rssBefore = vmRssKiB(s.process.pid!);
      let rssPeak = rssBefore;

      // Pings go out in chunks while the service's open sockets are watched, until it cuts the socket.
      const startedAt = Date.now();
      let cutAfterMs: number | undefined;
      const watching = eventually(
        async () => {
          rssPeak = Math.max(rssPeak, vmRssKiB(s.process.pid!));
          const cut = metricValue(await metrics(), 'notifications_open_sockets') === openBefore - 1;
          if (cut) cutAfterMs ??= Date.now() - startedAt;
          return cut;
        },
        // Cut by the frame budget (4429), then by the 5 s close-handshake timeout when the client
        // does not answer the close frame; the heartbeat could not do it within 60 s here.
        15_000,
        'the flooding socket cut',
      );
      const payload = Buffer.alloc(125, 0x70);
      let sent = 0;
      while (sent < pings && cutAfterMs === undefined && flooder.socket.readyState === 1) {
        for (let i = 0; i < 2000; i++) flooder.socket.ping(payload);
        sent += 2000;
        await new Promise((resolve) => setImmediate(resolve));
      }
      await watching;

      console.log(
        `[red-team] ping flood from a socket that never reads: cut after ${cutAfterMs} ms and ` +
          `${sent} pings of 125 B (at most ${pings}); service VmRSS ${Math.round(rssBefore / 1024)} → ` +
          `peak ${Math.round(rssPeak / 1024)} MiB`,
      );
      expect(rssPeak - rssBefore).toBeLessThan(48 * 1024);
      bystander.send('ping', { ts: 1 });
      expect(await bystander.next('pong')).toEqual({ ts: 1 });
    });

    it('ping frames spend the frame budget (MAX_MESSAGES_PER_MINUTE): a reading client gets rate_limited and 4429', async () => {
      const pinger = await ready('polite-pinger');
      let pongs = 0;
      pinger.socket.on('pong', () => pongs++);
      // In rounds of 20 whose pongs come back, so that ws's own bound on unanswered pongs never
      // applies: only the budget of 100 frames a minute can close this socket.
      for (let round = 0; round < 10 && pinger.socket.readyState === 1; round++) {
        const want = pongs + 20;
        for (let i = 0; i < 20; i++) pinger.socket.ping();
        await eventually(
          () => pongs >= want || pinger.socket.readyState !== 1,
          5000,
          `pongs of round ${round}`,
        );
      }
      expect(await pinger.waitClosed()).toMatchObject({ code: 4429, reason: /too many messages/ });
      expect(pinger.all('error')).toEqual([{ code: 'rate_limited', message: expect.any(String) }]);
      expect(pongs).toBeLessThanOrEqual(101);
    });
  });
});
