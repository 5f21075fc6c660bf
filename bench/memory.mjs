#!/usr/bin/env node
/**
 * `node bench/memory.mjs`: Redis bytes per stored notification on the built service (dist/), the
 * memory scenario of `npm run bench` on its own. Prints numbers, asserts nothing. See README.md.
 */
import { parseArgs } from 'node:util';
import { stopAll } from '../test/kit/processes.mjs';
import { MEMORY_DEFAULTS, measureMemory } from './lib/memory.mjs';
import { wholeNumberOption } from './lib/options.mjs';
import { printMemory } from './lib/report.mjs';

const USAGE = `usage: node bench/memory.mjs [options]
  --users N           users (${MEMORY_DEFAULTS.users})
  --per-user N        notifications per user, one notify job each (${MEMORY_DEFAULTS.perUser})
  --payload-bytes N   bytes of each payload's JSON (${MEMORY_DEFAULTS.payloadBytes})
  --history-limit N   HISTORY_LIMIT of the service (default: the service's own, 1000)
  --dedupe-keys       give each notification a producer dedupeKey (order-00000042), kept as long
                      as the notification (without: the job's own key, released once it completes)
  --json              print the figures as JSON too`;

const { values } = parseArgs({
  options: {
    users: { type: 'string' },
    'per-user': { type: 'string' },
    'payload-bytes': { type: 'string' },
    'history-limit': { type: 'string' },
    'dedupe-keys': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const number = (name, fallback) => wholeNumberOption(values, name, { fallback, usage: USAGE });

try {
  const result = await measureMemory({
    users: number('users', MEMORY_DEFAULTS.users),
    perUser: number('per-user', MEMORY_DEFAULTS.perUser),
    payloadBytes: number('payload-bytes', MEMORY_DEFAULTS.payloadBytes),
    historyLimit: number('history-limit', undefined),
    dedupeKeys: values['dedupe-keys'],
    log: (text) => console.error(`[${new Date().toISOString().slice(11, 19)}] [memory] ${text}`),
  });
  printMemory(result);
  if (values.json) console.log(JSON.stringify(result, null, 2));
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  await stopAll();
}
