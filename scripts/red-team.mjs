#!/usr/bin/env node
// The red-team cases of issue 10, measured black-box against a built service, for before/after
// figures (the assertions are in test/faults/red-team.e2e-spec.ts):
//   npm run build && node scripts/red-team.mjs [--main dist/src/main.js] [ping] [deep] [slow] [upgrade] [misc]
// Starts its own redis-server and the service (NODE_ENV=production) on free ports of 127.0.0.1,
// runs each case once and stops everything. The service runs with its defaults.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { freePort, startLocalRedis } from '../dist/src/redis/local-redis.js';

const { values, positionals } = parseArgs({
  options: { main: { type: 'string', default: 'dist/src/main.js' } },
  allowPositionals: true,
});
const cases = new Set(
  positionals.length > 0 ? positionals : ['ping', 'deep', 'slow', 'upgrade', 'misc'],
);
const SECRET = 'red-team-secret-that-is-long-enough-for-hs256!!';
const API_KEY = 'red-team-api-key-0123456789abcdef';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const rssMiB = (pid) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const token = (sub) =>
  new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(SECRET));

const redis = await startLocalRedis();
const port = await freePort();
let log = '';
const service = spawn(process.execPath, [values.main], {
  env: {
    PATH: process.env.PATH,
    NO_COLOR: '1',
    NODE_ENV: 'production',
    JWT_SECRET: SECRET,
    API_KEYS: API_KEY,
    REDIS_URL: redis.url,
    PORT: String(port),
  },
  stdio: ['ignore', 'pipe', 'pipe'],
});
service.stdout.on('data', (chunk) => (log += chunk));
service.stderr.on('data', (chunk) => (log += chunk));
const base = `http://127.0.0.1:${port}`;

try {
  for (let waited = 0; !log.includes('listening on'); waited += 50) {
    if (service.exitCode !== null || waited > 30_000)
      throw new Error(`service did not start:\n${log}`);
    await sleep(50);
  }
  /** notifications_open_sockets, or NaN while /metrics does not answer. */
  const openSockets = async () => {
    try {
      const text = await (await fetch(`${base}/metrics`)).text();
      return Number(/^notifications_open_sockets (\d+)/m.exec(text)?.[1]);
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
    console.log(`[deep] the log has a stack trace: ${/\n\s+at /.test(log)}`);
  }

  /** Writes `head` on a raw connection (and `drip()` every second); resolves when the server closes it. */
  const raw = (head, drip) =>
    new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      const startedAt = Date.now();
      let answer = '';
      const timer = drip && setInterval(() => socket.writable && socket.write(drip()), 1000);
      const done = () => {
        clearInterval(timer);
        clearTimeout(limit);
        socket.destroy();
        resolve({ ms: Date.now() - startedAt, status: answer.split('\r\n')[0] });
      };
      const limit = setTimeout(done, 120_000);
      socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
      socket.on('error', () => undefined);
      socket.on('close', done);
      socket.write(head);
    });

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
    const head = [
      'GET /ws?token=garbage HTTP/1.1',
      'Host: 127.0.0.1',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
      '',
      '',
    ].join('\r\n');
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
  service.kill('SIGKILL');
  await redis.stop();
}
