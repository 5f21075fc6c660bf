import fc from 'fast-check';
import { objectJson, PAYLOAD_MAX_BYTES } from './oracles.js';

/** Generators of hostile strings, job data and frames for the hostile specs (fast-check). */

/** One "char" of hostile strings: mostly plain, some controls, quotes, astral, RTL and separators. */
export const hostileChar = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...'abcdefxyz0123456789-_.:'.split('')) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('é', 'ß', '中', '😀', '𝄞', '\u0000', '\u2028', '\u202e', '"', '\\'),
  },
);
export const hostileString = (minLength: number, maxLength: number) =>
  fc.string({ unit: hostileChar, minLength, maxLength });
export const anyJson = (maxDepth: number) => fc.jsonValue({ maxDepth, stringUnit: hostileChar });
export const PROTOTYPE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
];

const userIdArb = fc.oneof(
  { weight: 5, arbitrary: hostileString(0, 200) },
  { weight: 2, arbitrary: fc.integer({ min: 126, max: 131 }).map((n) => 'u'.repeat(n)) },
  { weight: 1, arbitrary: anyJson(2) },
);
/** Recipients of bulk jobs come from a pool of 400 users, so that Redis stays small. */
export const bulkIds = (n: number, offset: number) =>
  Array.from({ length: n }, (_, i) => `bulk-${(i + offset) % 400}`);
const userIdsArb = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.array(
      fc.oneof(
        { weight: 9, arbitrary: hostileString(1, 8).map((s) => `f-${s}`) },
        { weight: 1, arbitrary: userIdArb },
      ),
      { maxLength: 6 },
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 995, max: 1005 }), fc.nat(400))
      .map(([n, offset]) => bulkIds(n, offset)),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: 1100 }), fc.nat(400))
      .map(([n, offset]) => bulkIds(n, offset)),
  },
  { weight: 1, arbitrary: anyJson(2) },
);
const typeArb = fc.oneof(
  { weight: 5, arbitrary: fc.stringMatching(/^[a-z0-9._-]{1,64}$/) },
  { weight: 1, arbitrary: fc.integer({ min: 62, max: 66 }).map((n) => 't'.repeat(n)) },
  { weight: 2, arbitrary: hostileString(0, 70) },
  { weight: 1, arbitrary: anyJson(1) },
);
const payloadArb = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .array(
        fc.tuple(fc.oneof(hostileString(0, 10), fc.constantFrom(...PROTOTYPE_KEYS)), anyJson(3)),
        { maxLength: 5 },
      )
      .map((entries) => JSON.parse(objectJson(entries)) as unknown),
  },
  {
    weight: 1,
    // {"d":"xx…"}: 8 bytes of JSON around the string; around the 16 KiB limit.
    arbitrary: fc
      .integer({ min: PAYLOAD_MAX_BYTES - 4, max: PAYLOAD_MAX_BYTES + 4 })
      .map((bytes) => ({ d: 'x'.repeat(bytes - 8) })),
  },
  { weight: 2, arbitrary: anyJson(2) },
);
const dedupeKeyArb = fc.oneof(
  { weight: 4, arbitrary: hostileString(0, 140) },
  { weight: 1, arbitrary: fc.integer({ min: 126, max: 130 }).map((n) => 'k'.repeat(n)) },
  { weight: 1, arbitrary: anyJson(1) },
);
const extrasArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant([] as [string, unknown][]) },
  {
    weight: 1,
    arbitrary: fc.array(
      fc.tuple(fc.constantFrom(...PROTOTYPE_KEYS, 'extra', 'userid', 'Type', ''), anyJson(1)),
      { minLength: 1, maxLength: 2 },
    ),
  },
);

/** Job data as JSON text, valid about a quarter of the time. */
export const jobTextArb = fc
  .record({
    recipients: fc.oneof(
      { weight: 5, arbitrary: fc.constant('userId') },
      { weight: 4, arbitrary: fc.constant('userIds') },
      { weight: 1, arbitrary: fc.constant('both') },
      { weight: 1, arbitrary: fc.constant('neither') },
    ),
    userId: userIdArb,
    userIds: userIdsArb,
    type: fc.option(typeArb, { nil: undefined, freq: 12 }),
    payload: fc.option(payloadArb, { nil: undefined, freq: 2 }),
    dedupeKey: fc.option(dedupeKeyArb, { nil: undefined, freq: 3 }),
    extras: extrasArb,
    extrasFirst: fc.boolean(),
  })
  .map((job) => {
    const entries: [string, unknown][] = [];
    if (job.recipients === 'userId' || job.recipients === 'both') {
      entries.push(['userId', job.userId]);
    }
    if (job.recipients === 'userIds' || job.recipients === 'both') {
      entries.push(['userIds', job.userIds]);
    }
    if (job.type !== undefined) entries.push(['type', job.type]);
    if (job.payload !== undefined) entries.push(['payload', job.payload]);
    if (job.dedupeKey !== undefined) entries.push(['dedupeKey', job.dedupeKey]);
    return objectJson(job.extrasFirst ? [...job.extras, ...entries] : [...entries, ...job.extras]);
  });

/** Frames with the right shape but wrong types, unknown events and prototype keys. */
export const structuredFrameArb = fc
  .record({
    event: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('ping', 'read') },
      {
        weight: 2,
        arbitrary: fc.constantFrom(
          ...PROTOTYPE_KEYS,
          '',
          'PING',
          ' ping',
          'ping\u0000',
          'pong',
          'ready',
          'notification',
          'error',
        ),
      },
      { weight: 1, arbitrary: hostileString(0, 20) },
      { weight: 1, arbitrary: anyJson(1) },
    ),
    /** The JSON text of `data`: an object with exactly the generated own keys, or any JSON. */
    dataJson: fc.oneof(
      {
        weight: 4,
        arbitrary: fc
          .array(
            fc.tuple(
              fc.constantFrom(...PROTOTYPE_KEYS, 'ts', 'ids', 'all', 'x'),
              fc.oneof(
                anyJson(2),
                fc.constantFrom(1e308, -1e308, 0, -0, 1e-320, Number.MAX_SAFE_INTEGER + 2),
                fc.array(anyJson(0), { maxLength: 3 }),
              ),
            ),
            { maxLength: 3 },
          )
          .map(objectJson),
      },
      { weight: 1, arbitrary: anyJson(1).map((value) => JSON.stringify(value)) },
    ),
    omitData: fc.boolean(),
    topLevelExtra: fc.option(fc.constantFrom(...PROTOTYPE_KEYS, 'id', 'Event'), { freq: 4 }),
  })
  .map(({ event, dataJson, omitData, topLevelExtra }) => {
    const parts = [`"event":${JSON.stringify(event)}`];
    if (!omitData) parts.push(`"data":${dataJson}`);
    if (topLevelExtra !== null) parts.push(`${JSON.stringify(topLevelExtra)}:{"event":"ping"}`);
    return `{${parts.join(',')}}`;
  });
