#!/usr/bin/env node
// The store's cost per notification, on the built library against a private redis-server:
//   npm run build && node scripts/store-cost.mjs [--count 10000] [--batch 100] [--users 100]
// Appends `count` notifications (round-robin over `users`, history limit 1000, so the later ones also
// trim) in pipelines of `batch`, like the processor does, and prints the wall time per notification
// and Redis's own time per script call (INFO commandstats), which does not depend on this process.
import { Redis } from 'ioredis';
import { parseArgs } from 'node:util';
import { startRedis } from '../test/kit/redis.mjs';
import { RedisNotificationStore } from '../libs/notifications/dist/storage/redis-notification.store.js';
import { NotificationsSettings } from '../libs/notifications/dist/notifications.settings.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '10000' },
    batch: { type: 'string', default: '100' },
    users: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '3' },
  },
});
const count = Number(values.count);
const batch = Number(values.batch);
const users = Number(values.users);
const rounds = Number(values.rounds);

const server = await startRedis();
const redis = new Redis(server.url);
const payloadJson = JSON.stringify({ title: 'A comment on your post', postId: 12345, by: 'alice' });

/**
 * Since the last CONFIG RESETSTAT: Redis's time in EVALSHA per call, and the commands the scripts ran
 * per call (a count that does not depend on how busy the machine is).
 */
async function scriptStats() {
  const stats = await redis.info('commandstats');
  let scriptCalls = 0;
  let scriptMicros = 0;
  let inner = 0;
  for (const line of stats.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line);
    if (!match) continue;
    const [, name, calls, usec] = match;
    if (name === 'evalsha' || name === 'eval') {
      scriptCalls += Number(calls);
      scriptMicros += Number(usec);
    } else if (name !== 'config' && name !== 'info') {
      inner += Number(calls);
    }
  }
  return { redisMicros: scriptMicros / scriptCalls, commands: inner / scriptCalls };
}

try {
  const results = [];
  for (let round = 0; round < rounds; round++) {
    const settings = new NotificationsSettings({
      jwt: { secret: 'x' },
      keyPrefix: `cost:${round}`,
      historyLimit: 1000,
    });
    const store = new RedisNotificationStore({ client: redis }, settings);
    // Warm up: load the script, create the users' histories.
    await store.append(
      Array.from({ length: users }, (_, u) => ({
        userId: `u${u}`,
        type: 'comment.created',
        payloadJson,
        dedupeKey: `warm-${u}`,
      })),
    );
    await redis.config('RESETSTAT');
    const started = process.hrtime.bigint();
    for (let i = 0; i < count; i += batch) {
      const requests = [];
      for (let j = i; j < Math.min(count, i + batch); j++) {
        requests.push({
          userId: `u${j % users}`,
          type: 'comment.created',
          payloadJson,
          dedupeKey: `k-${j}`,
          enqueuedAt: Date.now(),
        });
      }
      await store.append(requests);
    }
    const wallMicros = Number(process.hrtime.bigint() - started) / 1000 / count;
    results.push({ wallMicros, ...(await scriptStats()) });
  }
  const sorted = (xs) => [...xs].sort((a, b) => a - b);
  const median = (xs) => sorted(xs)[Math.floor(xs.length / 2)];
  const wall = results.map((r) => r.wallMicros);
  const inRedis = results.map((r) => r.redisMicros);
  console.log(
    `store cost over ${count} notifications, ${users} users, batches of ${batch}, ${rounds} rounds:`,
  );
  console.log(
    `  wall:     median ${median(wall).toFixed(1)}, min ${sorted(wall)[0].toFixed(1)} us per notification`,
  );
  console.log(
    `  redis:    median ${median(inRedis).toFixed(2)}, min ${sorted(inRedis)[0].toFixed(2)} us per script call`,
  );
  console.log(`  commands: ${results[0].commands.toFixed(2)} run by the script per notification`);
  console.log(
    `  rounds: ${results.map((r) => `${r.wallMicros.toFixed(1)}/${r.redisMicros.toFixed(2)}`).join(' ')}`,
  );
} finally {
  await redis.quit();
  await server.stop();
}
