#!/usr/bin/env node
// Soak: steady load with churn and periodic worker and gateway restarts, on the built service.
//   npm run soak -- --minutes 10 [--rate 200] [--users 50]
// Prints the counts and each process's RSS every minute; at the end, lost and duplicated per tab.
// Everything runs on 127.0.0.1 and stops by itself.
import { Queue } from 'bullmq';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { storedIds } from '../test/kit/http.mjs';
import { freePort, rssKiB } from '../test/kit/processes.mjs';
import { startRedis } from '../test/kit/redis.mjs';
import { ResumingTab } from '../test/kit/resuming-tab.mjs';
import { startService } from '../test/kit/service.mjs';
import { sleep } from '../test/kit/timing.mjs';
import { signToken } from '../test/kit/tokens.mjs';

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

const dir = mkdtempSync(join(tmpdir(), 'notif-soak-'));
const redis = await startRedis({ appendonly: true, dir });
const env = {
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
    this.process = await startService(
      { ...env, ROLE: this.role, PORT: String(this.port) },
      { name: this.role },
    );
  }
  async restart(signal) {
    await this.process.stop(signal);
    await this.start();
  }
  rssMiB() {
    try {
      return (rssKiB(this.process.pid) / 1024).toFixed(1);
    } catch {
      return '-';
    }
  }
  get alive() {
    const child = this.process?.process;
    return child?.exitCode === null && child?.signalCode === null;
  }
  stop() {
    return this.process?.stop('SIGKILL');
  }
}

const gateways = [new Service('gateway'), new Service('gateway')];
const worker = new Service('worker');
await Promise.all([...gateways, worker].map((s) => s.start()));

/** A live gateway's URL, at random (the first one while none is up). */
function gatewayUrl(scheme) {
  const live = gateways.filter((g) => g.alive);
  const gateway = live[Math.floor(Math.random() * live.length)] ?? gateways[0];
  return `${scheme}://127.0.0.1:${gateway.port}${scheme === 'ws' ? '/ws' : ''}`;
}

const users = Array.from({ length: userCount }, (_, i) => `soak-${i}`);
/** Two tabs a user, each resuming on a random live gateway after every close. */
const tabs = [];
for (const user of users) {
  const jwt = await signToken(user, { secret: SECRET, expiresIn: '2h' });
  tabs.push(
    new ResumingTab(jwt, () => gatewayUrl('ws')),
    new ResumingTab(jwt, () => gatewayUrl('ws')),
  );
}
await Promise.all(tabs.map((tab) => tab.open()));

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
const churn = setInterval(() => tabs[Math.floor(Math.random() * tabs.length)].drop(), 200);
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
const drainUntil = Date.now() + 60_000;
let lost = 0;
let stored = 0;
for (let i = 0; i < tabs.length; i += 2) {
  // Both tabs of a user follow the same history.
  const ids = await storedIds(gatewayUrl('http'), tabs[i].token);
  stored += ids.length;
  for (const tab of [tabs[i], tabs[i + 1]]) {
    while (ids.some((id) => !tab.has(id)) && Date.now() < drainUntil) await sleep(100);
    lost += ids.filter((id) => !tab.has(id)).length;
  }
}
report();
const duplicated = tabs.reduce((n, t) => n + t.duplicates, 0);
console.log(`[soak done] sent ${sent}, stored ${stored}, lost ${lost}, duplicated ${duplicated}`);
clearInterval(reporter);
await Promise.all(tabs.map((tab) => tab.close()));
await producer.close();
await Promise.all([...gateways, worker].map((s) => s.stop()));
await redis.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(lost === 0 && duplicated === 0 && stored === sent ? 0 : 1);
