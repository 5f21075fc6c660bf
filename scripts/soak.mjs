#!/usr/bin/env node
// Soak: steady load with churn and periodic worker and gateway restarts, on the built service.
//   npm run soak -- --minutes 10 [--rate 200] [--users 50]
// Prints the counts and each process's RSS every minute; at the end, lost and duplicated per tab.
// Everything runs on 127.0.0.1 and stops by itself.
import { Queue } from 'bullmq';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { freePort, startLocalRedis } from '../dist/src/redis/local-redis.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    rate: { type: 'string', default: '200' },
    users: { type: 'string', default: '40' },
  },
});
const minutes = Number(values.minutes);
const rate = Number(values.rate);
const userCount = Number(values.users);
const SECRET = 'soak-secret-that-is-long-enough-for-hs256!!';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), 'notif-soak-'));
const redis = await startLocalRedis({ appendonly: true, dir });
const env = {
  PATH: process.env.PATH,
  NODE_ENV: 'production',
  JWT_SECRET: SECRET,
  REDIS_URL: redis.url,
  JOB_LOCK_MS: '3000',
  MAX_MESSAGES_PER_MINUTE: '1000',
};

/** A service process that can be restarted on the same port. */
class Service {
  constructor(role) {
    this.role = role;
  }
  async start() {
    this.port ??= await freePort();
    this.child = spawn(process.execPath, ['dist/src/main.js'], {
      env: { ...env, ROLE: this.role, PORT: String(this.port), NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise((resolve, reject) => {
      let out = '';
      this.child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('listening on')) resolve();
      });
      this.child.once('exit', (code) => reject(new Error(`${this.role} exited ${code}`)));
    });
    this.child.stdout.resume();
  }
  async restart(signal) {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill(signal);
    await exited;
    await this.start();
  }
  rssMiB() {
    try {
      const kb = Number(
        /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${this.child.pid}/status`, 'utf8'))[1],
      );
      return (kb / 1024).toFixed(1);
    } catch {
      return '-';
    }
  }
  get alive() {
    return this.child?.exitCode === null && this.child?.signalCode === null;
  }
  stop() {
    this.child?.kill('SIGKILL');
  }
}

const gateways = [new Service('gateway'), new Service('gateway')];
const worker = new Service('worker');
await Promise.all([...gateways, worker].map((s) => s.start()));
const token = (sub) =>
  new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(SECRET));

/** A tab: resumes from the last id it saw, on a random live gateway, after every close. */
class Tab {
  received = [];
  seen = new Set();
  duplicates = 0;
  reconnects = 0;
  lastId;
  stopped = false;
  constructor(user, jwt) {
    this.user = user;
    this.jwt = jwt;
  }
  connect() {
    if (this.stopped) return;
    const live = gateways.filter((g) => g.alive);
    const gateway = live[Math.floor(Math.random() * live.length)] ?? gateways[0];
    const url = new URL(`ws://127.0.0.1:${gateway.port}/ws`);
    if (this.lastId) url.searchParams.set('since', this.lastId);
    const socket = new WebSocket(url, ['bearer', this.jwt]);
    this.socket = socket;
    socket.on('message', (raw) => {
      const { event, data } = JSON.parse(raw.toString());
      if (event === 'ready') this.lastId = data.cursor;
      if (event !== 'notification') return;
      const id = data.notification.id;
      if (this.seen.has(id)) this.duplicates++;
      else {
        this.seen.add(id);
        this.received.push(id);
        this.lastId = id;
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.stopped) return;
      this.reconnects++;
      setTimeout(
        () => this.connect(),
        Math.random() * Math.min(1000, 50 * 2 ** Math.min(this.reconnects, 5)),
      );
    });
  }
}

const users = Array.from({ length: userCount }, (_, i) => `soak-${i}`);
const tabs = [];
for (const user of users) {
  const jwt = await token(user);
  tabs.push(new Tab(user, jwt), new Tab(user, jwt));
}
tabs.forEach((tab) => tab.connect());

const producer = new Queue('notifications', {
  connection: { host: '127.0.0.1', port: redis.port },
});
let sent = 0;
const deadline = Date.now() + minutes * 60_000;
const producing = (async () => {
  while (Date.now() < deadline) {
    const started = Date.now();
    const batch = Array.from({ length: Math.max(1, Math.round(rate / 10)) }, () => ({
      name: 'notify',
      data: {
        userId: users[Math.floor(Math.random() * users.length)],
        type: 'soak.tick',
        payload: { n: sent++ },
      },
    }));
    await producer.addBulk(batch).catch(() => (sent -= batch.length));
    await sleep(Math.max(0, 100 - (Date.now() - started)));
  }
})();

// Churn: a random tab drops every 200 ms; a restart every 20 s, round robin.
const churn = setInterval(
  () => tabs[Math.floor(Math.random() * tabs.length)].socket?.terminate(),
  200,
);
let restarts = 0;
const restarter = setInterval(() => {
  const turn = restarts++ % 3;
  const target = turn === 0 ? worker : gateways[turn - 1];
  void target
    .restart(turn === 0 ? 'SIGKILL' : 'SIGTERM')
    .catch((e) => console.error(`restart failed: ${e.message}`));
}, 20_000);
const started = Date.now();
const report = () => {
  const delivered = tabs.reduce((n, t) => n + t.received.length, 0);
  const duplicated = tabs.reduce((n, t) => n + t.duplicates, 0);
  console.log(
    `[soak ${((Date.now() - started) / 60_000).toFixed(1)} min] sent ${sent}, delivered ${delivered} (to ${tabs.length} tabs), ` +
      `duplicated ${duplicated}, restarts ${restarts}, RSS MiB: gateways ${gateways.map((g) => g.rssMiB()).join('/')}, worker ${worker.rssMiB()}`,
  );
};
const reporter = setInterval(report, 60_000);

await producing;
clearInterval(churn);
clearInterval(restarter);
await sleep(3000); // let any restart in progress finish
await Promise.all(
  [...gateways, worker].filter((s) => !s.alive).map((s) => s.start().catch(() => undefined)),
);

// Drain: wait until every tab holds its user's whole history (or 60 s pass).
const gatewayUrl = () => `http://127.0.0.1:${gateways.find((g) => g.alive).port}`;
async function history(jwt) {
  const ids = [];
  let cursor = null;
  do {
    const res = await fetch(
      `${gatewayUrl()}/v1/me/notifications?limit=100${cursor ? `&before=${cursor}` : ''}`,
      {
        headers: { authorization: `Bearer ${jwt}` },
      },
    );
    const body = await res.json();
    ids.push(...body.items.map((i) => i.id));
    cursor = body.nextCursor;
  } while (cursor);
  return ids.reverse();
}
const drainUntil = Date.now() + 60_000;
let lost = 0;
let stored = 0;
for (let i = 0; i < tabs.length; i += 2) {
  // Both tabs of a user follow the same history.
  const ids = await history(tabs[i].jwt);
  stored += ids.length;
  for (const tab of [tabs[i], tabs[i + 1]]) {
    while (ids.some((id) => !tab.seen.has(id)) && Date.now() < drainUntil) await sleep(100);
    lost += ids.filter((id) => !tab.seen.has(id)).length;
  }
}
report();
const duplicated = tabs.reduce((n, t) => n + t.duplicates, 0);
console.log(`[soak done] sent ${sent}, stored ${stored}, lost ${lost}, duplicated ${duplicated}`);
clearInterval(reporter);
tabs.forEach((t) => {
  t.stopped = true;
  t.socket?.terminate();
});
await producer.close();
[...gateways, worker].forEach((s) => s.stop());
await redis.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(lost === 0 && duplicated === 0 && stored === sent ? 0 : 1);
