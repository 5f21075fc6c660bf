/**
 * Load process that holds the sockets: user `u<i>` has socket i. It records, for every notification
 * of a measured step, the time from the producer's stamp (payload.t) to its arrival here, and counts
 * what arrived twice. Driven by the orchestrator over IPC (see ../lib/rpc.mjs).
 */
import { sleep } from '../../test/kit/timing.mjs';
import { signToken } from '../../test/kit/tokens.mjs';
import { nowMs } from '../lib/clock.mjs';
import { serveRpc } from '../lib/rpc.mjs';
import { summarize } from '../lib/stats.mjs';
import { watchStalls } from '../lib/stalls.mjs';
import { openSocket } from './protocols.mjs';

const OPEN = 1;
const stalls = watchStalls();

let system;
let baseUrl;
let secret;
const sockets = [];
/** step id → what is being recorded for it. */
const steps = new Map();
let closedWhileLive = 0;
let strays = 0;
let lastArrivalAt = 0;

function onPayload(index, payload) {
  const at = nowMs();
  lastArrivalAt = at;
  const step = steps.get(payload?.s);
  if (!step) {
    strays += 1; // a late arrival from a step that is over
    return;
  }
  // Steady steps key arrivals by sequence number (one user each); fan-out by socket.
  const key = step.kind === 'fanout' ? index : payload.q;
  if (step.seen[key]) {
    step.duplicates += 1;
    return;
  }
  step.seen[key] = 1;
  step.latencies[step.count++] = at - payload.t;
  if (step.count >= step.expected) step.complete?.();
}

/** Socket index → its user's token, signed once (`prepare`, or the first `open` that needs it). */
const tokens = new Map();

/** Signs the tokens of `indexes` not signed yet (jose, about 0.2 ms each here). */
async function sign(indexes) {
  for (const i of indexes) {
    if (tokens.has(i)) continue;
    tokens.set(i, system === 'naive' ? '' : await signToken(`u${i}`, { secret, expiresIn: '4h' }));
  }
}

async function open(indexes, concurrency) {
  await sign(indexes);
  const errors = new Map();
  let next = 0;
  let connected = 0;
  const started = nowMs();
  const lane = async () => {
    while (next < indexes.length) {
      const index = indexes[next++];
      try {
        sockets[index] = await openSocket(
          system,
          baseUrl,
          `u${index}`,
          tokens.get(index),
          (payload) => onPayload(index, payload),
          () => (closedWhileLive += 1),
        );
        connected += 1;
      } catch (error) {
        errors.set(error.message, (errors.get(error.message) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return {
    connected,
    failed: indexes.length - connected,
    errors: Object.fromEntries([...errors].slice(0, 5)),
    elapsedMs: nowMs() - started,
  };
}

serveRpc({
  init(args) {
    system = args.system;
    baseUrl = args.baseUrl;
    secret = args.secret;
    return { pid: process.pid };
  },

  /**
   * Signs the tokens of u0…u<count-1> ahead of `connect`: a client brings its token, so signing it
   * is no part of the connects' time or CPU.
   */
  async prepare({ count }) {
    await sign(Array.from({ length: count }, (_, i) => i));
    return { signed: tokens.size };
  },

  /** Opens sockets u0…u<count-1>, `concurrency` handshakes at a time; times the whole. */
  async connect({ count, concurrency = 200 }) {
    const indexes = Array.from({ length: count }, (_, i) => i);
    return open(indexes, concurrency);
  },

  /** Opens again the sockets that were closed (a server may close a slow consumer, say). */
  async reopen({ concurrency = 200 }) {
    const closed = [...sockets.keys()].filter((i) => sockets[i]?.readyState !== OPEN);
    return closed.length === 0 ? { connected: 0, failed: 0 } : open(closed, concurrency);
  },

  /** Resolves once nothing has arrived for `quietMs` (at most `timeoutMs`): the last step is over. */
  async quiet({ quietMs, timeoutMs }) {
    const deadline = nowMs() + timeoutMs;
    while (nowMs() < deadline && nowMs() - lastArrivalAt < quietMs) await sleep(50);
    return { quiet: nowMs() - lastArrivalAt >= quietMs, strays };
  },

  /** Starts recording step `step`: up to `capacity` arrivals, keyed as `kind` says. */
  expect({ step, kind, capacity }) {
    stalls.reset();
    steps.set(step, {
      kind,
      expected: capacity,
      count: 0,
      duplicates: 0,
      seen: new Uint8Array(capacity),
      latencies: new Float64Array(capacity),
      complete: undefined,
    });
    return true;
  },

  /**
   * Waits until `expected` arrivals of `step` are in or `timeoutMs` passed, stops recording it and
   * returns its numbers (latencies in ms from the producer's stamp).
   */
  async collect({ step, expected, timeoutMs }) {
    const entry = steps.get(step);
    if (!entry) throw new Error(`no step ${step}`);
    entry.expected = expected;
    if (entry.count < expected) {
      await Promise.race([new Promise((resolve) => (entry.complete = resolve)), sleep(timeoutMs)]);
    }
    steps.delete(step);
    const latencies = entry.latencies.subarray(0, entry.count);
    let first = Infinity;
    for (const value of latencies) first = Math.min(first, value);
    return {
      received: entry.count,
      duplicates: entry.duplicates,
      latency: summarize(latencies),
      firstMs: entry.count > 0 ? first : null,
      closedWhileLive,
      strays,
      stalls: stalls.read(),
    };
  },

  /** Drops every socket at once; returns how many were open. */
  async close() {
    let open = 0;
    for (const ws of sockets) {
      if (ws?.readyState === OPEN) open += 1;
      ws?.terminate();
    }
    sockets.length = 0;
    return open;
  },
});
