#!/usr/bin/env node
// The red-team cases of issue 10, measured black-box against a built service, for before/after
// figures (the assertions are in test/faults/red-team.e2e-spec.ts):
//   npm run build && node scripts/red-team.mjs [--main dist/src/main.js] [ping] [deep] [slow] [upgrade] [misc]
// Starts its own redis-server and the service (NODE_ENV=production) on free ports of 127.0.0.1,
// runs each case once and stops everything. The service runs with its defaults.
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { metricValue, scrapeMetrics } from '../test/kit/http.mjs';
import { rssKiB } from '../test/kit/processes.mjs';
import { rawExchange, upgradeHead } from '../test/kit/raw-http.mjs';
import { startRedis } from '../test/kit/redis.mjs';
import { startService } from '../test/kit/service.mjs';
import { sleep } from '../test/kit/timing.mjs';
import { signToken } from '../test/kit/tokens.mjs';

const { values, positionals } = parseArgs({
  options: { main: { type: 'string', default: 'dist/src/main.js' } },
  allowPositionals: true,
});
const cases = new Set(
  positionals.length > 0 ? positionals : ['ping', 'deep', 'slow', 'upgrade', 'misc'],
);
const SECRET = 'red-team-secret-that-is-long-enough-for-hs256!!';
const API_KEY = 'red-team-api-key-0123456789abcdef';
const rssMiB = (pid) => rssKiB(pid) / 1024;
const token = (sub) => signToken(sub, { secret: SECRET });

const redis = await startRedis();
let service;

try {
  service = await startService(
    { NODE_ENV: 'production', JWT_SECRET: SECRET, API_KEYS: API_KEY, REDIS_URL: redis.url },
    { main: values.main, timeoutMs: 30_000 },
  );
  const { port, httpUrl: base } = service;
  const log = () => service.output();
  /** notifications_open_sockets, or NaN while /metrics does not answer. */
  const openSockets = async () => {
    try {
      return metricValue(await scrapeMetrics(base), 'notifications_open_sockets');
    } catch {
      return Number.NaN;
    }
  };

  if (cases.has('ping')) {
    // One authenticated socket that never reads sends 200,000 pings of 125 bytes.
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`, ['bearer', await token('pinger')]);
    await new Promise((resolve, reject) => {
      socket.once('message', resolve);
      socket.once('error', reject);
    });
    socket._socket.pause();
    await sleep(300);
    const before = rssMiB(service.pid);
    let peak = before;
    let cutAfterMs;
    const startedAt = Date.now();
    const payload = Buffer.alloc(125, 1);
    for (let i = 0; i < 200_000 && socket.readyState === WebSocket.OPEN; i++) socket.ping(payload);
    while (Date.now() - startedAt < 45_000) {
      peak = Math.max(peak, rssMiB(service.pid));
      if ((await openSockets()) === 0) {
        cutAfterMs = Date.now() - startedAt;
        break;
      }
      await sleep(100);
    }
    console.log(
      `[ping] 200000 pings of 125 B from a socket that never reads: service RSS ${before.toFixed(0)} ` +
        `-> peak ${peak.toFixed(0)} MiB; socket cut after ${cutAfterMs ?? '> 45000'} ms`,
    );
    socket.terminate();
  }

  if (cases.has('deep')) {
    const bearer = await token('deep');
    const post = (path, body, credential) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
        body,
      });
    const small = `{"ids":${'['.repeat(3000)}${']'.repeat(3000)}}`;
    const answer = await post('/v1/me/notifications/read', small, bearer);
    console.log(
      `[deep] ${small.length} B, 3000 levels on POST /v1/me/notifications/read: ${answer.status} ` +
        (await answer.text()).slice(0, 100),
    );
    // Eight ~1 MB deep bodies at once (4 on the inbox, 4 on publish), /health/live probed meanwhile.
    const brackets = '['.repeat(1024 * 1024 - 40);
    const latencies = [];
    let probing = true;
    const probe = (async () => {
      while (probing) {
        const startedAt = performance.now();
        await fetch(`${base}/health/live`);
        latencies.push(performance.now() - startedAt);
        await sleep(20);
      }
    })();
    await sleep(200);
    const startedAt = performance.now();
    const statuses = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        (i % 2
          ? post('/v1/me/notifications/read', `{"ids":${brackets}`, bearer)
          : post('/v1/notifications', `{"userId":"a","type":"t","payload":${brackets}`, API_KEY)
        ).then((response) => response.status),
      ),
    );
    const tookMs = performance.now() - startedAt;
    await sleep(300);
    probing = false;
    await probe;
    console.log(
      `[deep] 8 deep ~1 MB bodies: ${statuses.join(',')} in ${tookMs.toFixed(0)} ms; /health/live ` +
        `worst ${Math.max(...latencies).toFixed(0)} ms over ${latencies.length} probes`,
    );
    console.log(`[deep] the log has a stack trace: ${/\n\s+at /.test(log())}`);
  }

  /** Writes `head` on a raw connection (and `drip()` every second); resolves when the server closes it. */
  const raw = async (head, drip) => {
    const exchange = await rawExchange(port, head, { drip, dripMs: 1000, timeoutMs: 120_000 });
    return { ms: exchange.closedAfterMs ?? '> 120000', status: exchange.answer.split('\r\n')[0] };
  };

  if (cases.has('slow')) {
    const slow = await raw(
      'GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n',
      () => `X-Slow-${Date.now()}: 1\r\n`,
    );
    console.log(
      `[slow] slow headers (a header line a second): cut after ${slow.ms} ms, ${JSON.stringify(slow.status)}`,
    );
  }

  if (cases.has('upgrade')) {
    const head = upgradeHead('/ws?token=garbage');
    const upgrade = await raw(head);
    console.log(
      `[upgrade] garbage token, the client ignores everything: ${JSON.stringify(upgrade.status)}; ` +
        `connection closed by the server after ${upgrade.ms} ms`,
    );
  }

  if (cases.has('misc')) {
    const live = await fetch(`${base}/health/live`);
    console.log(
      `[misc] X-Powered-By: ${live.headers.get('x-powered-by')}; GET /metrics without a token: ` +
        `${(await fetch(`${base}/metrics`)).status}`,
    );
  }
} finally {
  await service?.stop('SIGKILL');
  await redis.stop();
}
