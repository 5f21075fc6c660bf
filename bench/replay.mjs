#!/usr/bin/env node
/**
 * `node bench/replay.mjs`: what a reconnecting socket's replay costs the gateway per replayed
 * notification. The built service (dist/, or `--baseline DIR`'s) runs on a private Redis; one user
 * gets `--notifications` notifications over HTTP publish; then a socket of that user connects
 * `--reconnects` times with `since` at the first of them (each connect replays the others) and
 * closes once `ready` arrived. Reported per replayed notification: the service's CPU (from /proc)
 * and its write system calls (`syscw` of /proc/<pid>/io: a `writev` counts one), the counts the
 * machine's load moves least.
 *
 * `--payload-bytes` pads each payload: a replay larger than `maxBufferedBytes` (1 MiB) must arrive
 * whole, not be closed as a slow consumer.
 *
 *   npm run build && node bench/replay.mjs [--notifications 100] [--reconnects 200] [--repeat 3]
 *     [--payload-bytes 16] [--baseline ../other-checkout]
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { freePort, startProcess, stopAll } from '../test/kit/processes.mjs';
import { startRedis } from '../test/kit/redis.mjs';
import { signToken } from '../test/kit/tokens.mjs';
import { cpuMs, syscalls } from './lib/cpu.mjs';
import { wholeNumberOption } from './lib/options.mjs';
import { round } from './lib/stats.mjs';

const SECRET = 'bench-only-secret-that-is-long-enough-for-hs256';
const API_KEY = 'bench-only-api-key-0123456789';

const { values } = parseArgs({
  options: {
    notifications: { type: 'string', default: '100' },
    reconnects: { type: 'string', default: '200' },
    'payload-bytes': { type: 'string', default: '16' },
    repeat: { type: 'string', default: '3' },
    baseline: { type: 'string' },
  },
});
const notifications = wholeNumberOption(values, 'notifications');
const reconnects = wholeNumberOption(values, 'reconnects');
const repeat = wholeNumberOption(values, 'repeat');
const payloadBytes = wholeNumberOption(values, 'payload-bytes');

/**
 * Connects with the token's user and `since`; resolves with how many notifications came before
 * `ready`, rejects when the socket closes before it.
 */
function replayOnce(url, token, since) {
  return new Promise((done, fail) => {
    const ws = new WebSocket(`${url}?since=${encodeURIComponent(since)}`, ['bearer', token], {
      perMessageDeflate: false,
    });
    let replayed = 0;
    let ready = false;
    ws.on('message', (data) => {
      const { event } = JSON.parse(data.toString());
      if (event === 'notification') replayed += 1;
      if (event !== 'ready') return;
      ready = true;
      ws.close();
    });
    ws.on('error', fail);
    ws.on('close', (code, reason) => {
      if (ready) done(replayed);
      else fail(new Error(`closed ${code} ${reason} before ready`));
    });
  });
}

/** The ids of the `notifications` a live socket gets while `publish` runs. */
function received(url, token, publish) {
  return new Promise((done, fail) => {
    const ws = new WebSocket(url, ['bearer', token], { perMessageDeflate: false });
    const ids = [];
    const timer = setTimeout(() => fail(new Error(`got ${ids.length} within 60 s`)), 60_000);
    ws.on('error', fail);
    ws.on('message', (data) => {
      const { event, data: body } = JSON.parse(data.toString());
      if (event === 'ready') publish().catch(fail);
      if (event !== 'notification') return;
      ids.push(body.notification.id);
      if (ids.length < notifications) return;
      clearTimeout(timer);
      ws.close();
      ws.once('close', () => done(ids));
    });
  });
}

/** One measured run of the service built at `root`. */
async function measure(name, root) {
  const script = resolve(root, 'dist/src/main.js');
  if (!existsSync(script)) throw new Error(`no built service at ${script}: npm run build there`);
  const redis = await startRedis();
  const port = await freePort();
  const service = startProcess(name, process.execPath, [script], {
    cwd: root,
    env: {
      PORT: String(port),
      REDIS_URL: redis.url,
      ROLE: 'all',
      NODE_ENV: 'production',
      JWT_SECRET: SECRET,
      ALLOWED_ORIGINS: '*',
      API_KEYS: API_KEY,
    },
  });
  try {
    await service.waitFor('listening on', 60_000);
    const base = `http://127.0.0.1:${port}`;
    const token = await signToken('replayer', { secret: SECRET, expiresIn: '1h' });
    const url = `ws://127.0.0.1:${port}/ws`;
    const ids = await received(url, token, async () => {
      for (let i = 0; i < notifications; i++) {
        const response = await fetch(`${base}/v1/notifications`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
          body: JSON.stringify({
            userId: 'replayer',
            type: 'bench.replay',
            payload: { q: i, pad: 'x'.repeat(payloadBytes) },
          }),
        });
        if (!response.ok) throw new Error(`publish: ${response.status} ${await response.text()}`);
      }
    });
    for (let i = 0; i < 20; i++) await replayOnce(url, token, ids[0]); // warm
    const cpu = cpuMs(service.pid);
    const calls = syscalls(service.pid);
    let replayed = 0;
    for (let i = 0; i < reconnects; i++) replayed += await replayOnce(url, token, ids[0]);
    const cpuUsed = cpuMs(service.pid) - cpu;
    const writes = syscalls(service.pid).writes - calls.writes;
    return {
      system: name,
      replayedPerConnect: round(replayed / reconnects),
      cpuUsecPerReplayed: round((cpuUsed * 1000) / replayed),
      writesPerConnect: round(writes / reconnects),
    };
  } finally {
    service.process.kill('SIGTERM');
    await redis.stop();
  }
}

const systems = [['service', resolve(import.meta.dirname, '..')]];
if (values.baseline) systems.push(['service-base', resolve(values.baseline)]);
try {
  const rows = [];
  for (let run = 0; run < repeat; run++) {
    for (const [name, root] of systems) {
      const row = await measure(name, root);
      rows.push(row);
      console.error(
        `${row.system}: ${row.replayedPerConnect} replayed per connect; service ` +
          `${row.cpuUsecPerReplayed} us CPU per replayed notification, ` +
          `${row.writesPerConnect} write system calls per connect`,
      );
    }
  }
  console.log(JSON.stringify({ notifications, reconnects, rows }));
} finally {
  await stopAll();
}
