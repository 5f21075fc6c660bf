import fc from 'fast-check';
import { INBOX_STATUSES, MARK_AS, type MarkAs, type MarkEventData } from '@rtnotify/protocol';
import {
  LegacyStore,
  type LegacyAppendRequest,
  type LegacyReplayResult,
} from './legacy/layout-0.2.js';
import { RedisNotificationStore } from './redis-notification.store.js';
import { createSut, epochOf, redis, seqOf, useRedis } from './store-spec-kit.js';

/*
 * Migration from the 0.2.x layout: histories written by the 0.2.x scripts (legacy/layout-0.2.ts,
 * frozen), then opened by the current RedisNotificationStore on the same keys, which migrates a
 * user on first touch. Its answers must be the ones 0.2.x gave, and it must go on from there (dedupe,
 * sequence, marks, expiry) as 0.2.x would have.
 *
 * Two oracles: answers recorded from the 0.2.x store before the new one touches the user, and a
 * twin user written identically (same clock, so the same createdAt) that stays in the 0.2.x layout
 * and gets the same operations through the 0.2.x store; their answers match once the twin's epoch
 * is read as the user's.
 */

useRedis();

const START = Date.parse('2030-01-01T00:00:00.000Z');
const HOUR = 3_600_000;

/** Keys only the 0.2.x layout has: after a user's first touch by the new store, none is left. */
const LEGACY_ONLY = ['h', 'u', 'n', 'a', 'f', 'd', 'dz'] as const;

/** What both stores answer; the new one is compared with the 0.2.x one through it. */
type Reader = Pick<LegacyStore, 'replay' | 'list' | 'counts'>;

/** A replay with its frames parsed: the same frames, whatever order the keys of the JSON are in. */
function parsedReplay(result: LegacyReplayResult) {
  return { ...result, frames: result.frames.map((frame) => JSON.parse(frame) as unknown) };
}

/** Every listing page of `status` (and `category`) of `size` items, following `nextCursor`. */
async function allPages(
  store: Reader,
  userId: string,
  query: { status: (typeof INBOX_STATUSES)[number]; category?: string; limit: number },
) {
  const pages = [];
  let before: string | undefined;
  do {
    const page = await store.list(userId, before === undefined ? query : { ...query, before });
    pages.push(page);
    before = page.nextCursor ?? undefined;
  } while (before !== undefined && pages.length <= 50);
  return pages;
}

/** A question asked of both stores, named so that a difference says which one it is. */
type Question = [name: string, ask: (store: Reader, userId: string) => Promise<unknown>];

/**
 * Replay after each of `since` (undefined: a fresh snapshot), every listing status (whole, paged
 * by `pageSize` and per category), a page before each of `before`, and the counts.
 */
function questionsOf(options: {
  since: (string | undefined)[];
  before: string[];
  categories: string[];
  pageSize: number;
}): Question[] {
  const questions: Question[] = [];
  for (const since of options.since) {
    questions.push([
      `replay since ${since ?? '(none)'}`,
      async (store, userId) => parsedReplay(await store.replay(userId, since)),
    ]);
  }
  for (const status of INBOX_STATUSES) {
    questions.push([
      `list ${status}`,
      (store, userId) => store.list(userId, { limit: 100, status }),
    ]);
    questions.push([
      `list ${status} by ${options.pageSize}`,
      (store, userId) => allPages(store, userId, { status, limit: options.pageSize }),
    ]);
    for (const category of options.categories) {
      questions.push([
        `list ${status} of ${category} by ${options.pageSize}`,
        (store, userId) => allPages(store, userId, { status, category, limit: options.pageSize }),
      ]);
    }
  }
  for (const before of options.before) {
    questions.push([
      `list all before ${before}`,
      (store, userId) => store.list(userId, { limit: 3, status: 'all', before }),
    ]);
  }
  questions.push(['counts', (store, userId) => store.counts(userId)]);
  return questions;
}

/**
 * The answers of `store` for `userId`, keyed by question. The first question asked is the first
 * whose name begins with `first` (the user's first touch, for the new store); the rest follow in
 * order. Reads change nothing here (nothing is due to expire), so the order does not matter.
 */
async function answersOf(
  store: Reader,
  userId: string,
  questions: Question[],
  first = '',
): Promise<Record<string, unknown>> {
  const start = Math.max(
    0,
    questions.findIndex(([name]) => name.startsWith(first)),
  );
  const answers: Record<string, unknown> = {};
  for (let i = 0; i < questions.length; i++) {
    const [name, ask] = questions[(start + i) % questions.length];
    answers[name] = await ask(store, userId);
  }
  return answers;
}

/** The questions for a user: replays after every id (and then some), pages before every id. */
function questionsFor(epoch: string, issued: string[], categories: string[]): Question[] {
  return questionsOf({
    since: [
      undefined,
      `${epoch}-0`,
      ...issued,
      `${epoch}-${issued.length + 1}`, // not issued yet
      'zzzzzzzzzz-1', // another epoch
      'garbage',
    ],
    before: issued,
    categories: [...categories, 'no-such'],
    pageSize: 2,
  });
}

/** Moves the faked clock (Date only) forward. */
function tick(ms: number): void {
  vi.setSystemTime(Date.now() + ms);
}

function item(n: number, extra: Partial<LegacyAppendRequest> = {}): LegacyAppendRequest {
  return { type: 'spec.item', payload: { n }, dedupeKey: `k-${n}`, ...extra };
}

/** A 0.2.x history, written by `build` with the 0.2.x store. */
interface Scenario {
  name: string;
  historyLimit: number;
  categories: string[];
  /** The first touch of the new store: the name of a question. */
  first: string;
  /** The indexes of the ids a resume from which 0.2.x tells truncated. */
  truncatedAfter?: number[];
  /** Writes the history; returns every id it issued (also of collapsed ones). */
  build: (legacy: LegacyStore, userId: string) => Promise<string[]>;
}

/** Appends each request a second apart; returns the ids. */
async function appendAll(
  legacy: LegacyStore,
  userId: string,
  requests: LegacyAppendRequest[],
): Promise<string[]> {
  const ids: string[] = [];
  for (const request of requests) {
    tick(1000);
    const result = await legacy.append(userId, request);
    expect(result.stored).toBe(true);
    ids.push(result.id);
  }
  return ids;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'a plain history',
    historyLimit: 10,
    categories: [],
    first: 'replay',
    build: (legacy, userId) =>
      appendAll(
        legacy,
        userId,
        [0, 1, 2, 3, 4].map((n) => item(n)),
      ),
  },
  {
    name: 'categories',
    historyLimit: 10,
    categories: ['billing', 'social'],
    first: 'list',
    build: (legacy, userId) =>
      appendAll(
        legacy,
        userId,
        [0, 1, 2, 3, 4, 5].map((n) =>
          item(n, n % 3 === 2 ? {} : { category: n % 3 === 0 ? 'billing' : 'social' }),
        ),
      ),
  },
  {
    name: 'a collapsed notification',
    historyLimit: 10,
    categories: ['social'],
    first: 'counts',
    build: async (legacy, userId) => {
      const ids = await appendAll(legacy, userId, [
        item(0),
        item(1, { collapseKey: 'post:1', category: 'social' }),
      ]);
      // Seen before it is replaced: the one replacing it is seen too.
      await legacy.mark(userId, { as: 'seen', ids: [ids[1]] });
      ids.push(
        ...(await appendAll(legacy, userId, [
          item(2, { collapseKey: 'post:1', category: 'social' }),
          item(3, { collapseKey: 'post:1', category: 'social' }),
          item(4, { collapseKey: 'post:2' }),
        ])),
      );
      // A read one is not replaced: both stay.
      await legacy.mark(userId, { as: 'read', ids: [ids[4]] });
      ids.push(...(await appendAll(legacy, userId, [item(5, { collapseKey: 'post:2' })])));
      return ids;
    },
  },
  {
    name: 'a future expiry',
    historyLimit: 10,
    categories: ['billing'],
    first: 'replay',
    build: (legacy, userId) =>
      appendAll(legacy, userId, [
        item(0),
        item(1, { category: 'billing', expiresAt: new Date(START + HOUR).toISOString() }),
        item(2, { expiresAt: new Date(START + 2 * HOUR).toISOString() }),
        item(3),
      ]),
  },
  {
    name: 'read, seen and archived states',
    historyLimit: 10,
    categories: ['billing', 'social'],
    first: 'list',
    build: async (legacy, userId) => {
      const ids = await appendAll(
        legacy,
        userId,
        [0, 1, 2, 3, 4, 5, 6, 7].map((n) => item(n, { category: n % 2 ? 'social' : 'billing' })),
      );
      const marks: MarkEventData[] = [
        { as: 'read', ids: [ids[0]] },
        { as: 'seen', ids: [ids[1]] },
        { as: 'archived', ids: [ids[2]] },
        // Archived, but unread and unseen (the state an archived one keeps).
        { as: 'archived', ids: [ids[3]] },
        { as: 'unread', ids: [ids[3]] },
        { as: 'archived', ids: [ids[4]] },
        { as: 'unarchived', ids: [ids[4]] },
        { as: 'seen', all: true, category: 'social' },
        { as: 'archived', all: true, onlyRead: true, category: 'billing' },
      ];
      for (const selection of marks) {
        tick(1000);
        expect((await legacy.mark(userId, selection)).changed).toBeGreaterThan(0);
      }
      return ids;
    },
  },
  {
    name: 'a trimmed history',
    historyLimit: 4,
    categories: ['billing', 'social'],
    first: 'replay',
    truncatedAfter: [0, 1, 2, 3],
    build: async (legacy, userId) => {
      const ids = await appendAll(legacy, userId, [
        item(0, { category: 'billing' }),
        item(1, { collapseKey: 'c' }),
        item(2),
      ]);
      await legacy.mark(userId, { as: 'archived', ids: [ids[2]] });
      ids.push(
        ...(await appendAll(
          legacy,
          userId,
          [3, 4, 5, 6, 7, 8].map((n) => item(n, n % 2 ? { category: 'social' } : {})),
        )),
      );
      await legacy.mark(userId, { as: 'read', ids: [ids[7]] });
      return ids; // seq 1..5 trimmed
    },
  },
  {
    name: 'a history written before protocol 1.1 (no trim mark)',
    historyLimit: 3,
    categories: [],
    first: 'replay',
    truncatedAfter: [0],
    build: async (legacy, userId) => {
      const ids = await appendAll(
        legacy,
        userId,
        [0, 1, 2, 3, 4].map((n) => item(n)),
      );
      await redis.hdel(legacy.keys(userId).data.m, 't');
      return ids; // 3, 4 and 5 retained
    },
  },
];

/** A 0.2.x store and the new store on the same (fresh) key prefix. */
function stores(historyLimit: number): { sut: RedisNotificationStore; legacy: LegacyStore } {
  const { sut, keyPrefix } = createSut({ historyLimit });
  return { sut, legacy: new LegacyStore(redis, { keyPrefix, historyLimit }) };
}

/** `value` with the twin's epoch read as the user's wherever it occurs (in ids, mostly). */
function asUser<T>(value: T, twinEpoch: string, userEpoch: string): T {
  return JSON.parse(JSON.stringify(value).replaceAll(twinEpoch, userEpoch)) as T;
}

const RICH_LIMIT = 5;
const RICH_CATEGORIES = ['billing', 'social'];

/**
 * A history with a bit of everything, written from START: categories, a collapse, a trim, an
 * expiry due at START + 1 min, and every state. Returns the ids (dedupe key of ids[n]: `k-n`).
 * Retained: ids[1] (expires, unread), ids[3] (social, collapsed ids[2], unread), ids[4] (billing,
 * read), ids[5] (archived), ids[6] (billing, seen). 0.2.x remembers the dedupe keys of the newest
 * five (historyLimit) by sequence, removed ones included: k-2 to k-6 (not k-1 of retained ids[1]).
 */
async function writeRich(legacy: LegacyStore, userId: string): Promise<string[]> {
  vi.setSystemTime(START);
  const ids = await appendAll(legacy, userId, [
    item(0, { category: 'billing' }), // trimmed
    item(1, { expiresAt: new Date(START + 60_000).toISOString() }),
    item(2, { category: 'social', collapseKey: 'post:1' }), // collapsed
    item(3, { category: 'social', collapseKey: 'post:1' }),
    item(4, { category: 'billing' }),
    item(5),
    item(6, { category: 'billing' }),
  ]);
  await legacy.mark(userId, { as: 'read', ids: [ids[4]] });
  await legacy.mark(userId, { as: 'seen', ids: [ids[6]] });
  await legacy.mark(userId, { as: 'archived', ids: [ids[5]] });
  return ids;
}

/**
 * The rich history for `user` and for its twin, which stays in the 0.2.x layout: under a prefix of
 * its own, where the new store never looks (its sweeper included).
 */
async function richPair(user: string, twin: string) {
  const { sut, legacy } = stores(RICH_LIMIT);
  const twinLegacy = stores(RICH_LIMIT).legacy;
  const ids = await writeRich(legacy, user);
  const twinIds = await writeRich(twinLegacy, twin);
  const [epoch, twinEpoch] = [epochOf(ids[0]), epochOf(twinIds[0])];
  const questions = questionsFor(epoch, ids, RICH_CATEGORIES);
  const twinQuestions = questionsFor(twinEpoch, twinIds, RICH_CATEGORIES);
  /** The user's answers from the new store equal the twin's from the 0.2.x store. */
  const expectSameAsTwin = async () => {
    const expected = asUser(await answersOf(twinLegacy, twin, twinQuestions), twinEpoch, epoch);
    expect(await answersOf(sut, user, questions)).toEqual(expected);
  };
  return { sut, twinLegacy, ids, twinIds, epoch, twinEpoch, expectSameAsTwin };
}

describe(RedisNotificationStore.name, () => {
  describe('migration from the 0.2.x layout', () => {
    beforeEach(() => {
      // The same clock for a user and its twin: the same createdAt, expiries in reach.
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(START);
    });

    afterEach(() => {
      vi.useRealTimers();
    });

    describe('answers as 0.2.x did for', () => {
      it.each(SCENARIOS.map((s) => [s.name, s] as const))('%s', async (_name, scenario) => {
        const { sut, legacy } = stores(scenario.historyLimit);
        const ids = await scenario.build(legacy, 'alice');
        const questions = questionsFor(epochOf(ids[0]), ids, scenario.categories);
        const recorded = await answersOf(legacy, 'alice', questions);
        const truncated = ids.filter((id) => {
          const answer = recorded[`replay since ${id}`] as { truncated: boolean };
          return answer.truncated;
        });
        expect(truncated).toEqual((scenario.truncatedAfter ?? []).map((i) => ids[i]));

        const answers = await answersOf(sut, 'alice', questions, scenario.first);

        expect(answers).toEqual(recorded);
        // Asked again, after the first touch.
        expect(await answersOf(sut, 'alice', questions)).toEqual(recorded);
      });

      it('a user the new store never touched, while another one was migrated', async () => {
        const { sut, legacy } = stores(10);
        const aliceIds = await appendAll(legacy, 'alice', [item(0), item(1, { category: 'x' })]);
        const bobIds = await appendAll(legacy, 'bob', [item(0), item(1, { collapseKey: 'k' })]);
        const bobQuestions = questionsFor(epochOf(bobIds[0]), bobIds, ['x']);
        const bobRecorded = await answersOf(legacy, 'bob', bobQuestions);

        expect(await sut.replay('alice', aliceIds[0])).toMatchObject({ truncated: false });

        // Bob is still all 0.2.x: the 0.2.x store reads him as before, so does the new one.
        expect(await answersOf(legacy, 'bob', bobQuestions)).toEqual(bobRecorded);
        expect(await answersOf(sut, 'bob', bobQuestions)).toEqual(bobRecorded);
      });
    });

    describe('goes on from a migrated history as 0.2.x would', () => {
      it('a dedupe key 0.2.x stored (also of a collapsed one) is still a duplicate', async () => {
        const { sut, twinLegacy, ids, twinEpoch, epoch, expectSameAsTwin } = await richPair(
          'alice',
          'twin',
        );
        const before = await twinLegacy.counts('twin');

        // The first touch: the producer retries jobs 0.2.x stored.
        const again = await sut.append([
          { userId: 'alice', type: 'spec.item', payloadJson: '{"n":6}', dedupeKey: 'k-6' },
          { userId: 'alice', type: 'spec.item', payloadJson: '{"n":2}', dedupeKey: 'k-2' },
        ]);
        const twinAgain = [
          await twinLegacy.append('twin', item(6)),
          await twinLegacy.append('twin', item(2)),
        ];

        expect(again).toEqual([
          { userId: 'alice', id: ids[6], stored: false, unread: before.unread },
          { userId: 'alice', id: ids[2], stored: false, unread: before.unread },
        ]);
        expect(again).toEqual(
          asUser(twinAgain, twinEpoch, epoch).map((r) => ({ ...r, userId: 'alice' })),
        );
        await expectSameAsTwin();
      });

      it('new appends continue the sequence in the same epoch, collapse and trim', async () => {
        const { sut, twinLegacy, ids, epoch, twinEpoch, expectSameAsTwin } = await richPair(
          'alice',
          'twin',
        );
        const cursor = (await twinLegacy.replay('twin', undefined)).cursor;
        tick(1000);
        const collapsing = item(7, { category: 'social', collapseKey: 'post:1' });
        // The sixth retained one: the oldest retained (ids[1], which expires) is trimmed.
        const trimming = item(8, {
          category: 'billing',
          expiresAt: new Date(START + HOUR).toISOString(),
        });

        // The first touch.
        const appended = await sut.append(
          [collapsing, trimming].map(({ payload, ...rest }) => ({
            ...rest,
            userId: 'alice',
            payloadJson: JSON.stringify(payload),
          })),
        );
        const twinAppended = [
          await twinLegacy.append('twin', collapsing),
          await twinLegacy.append('twin', trimming),
        ];

        expect(appended.map((r) => epochOf(r.id))).toEqual([epoch, epoch]);
        expect(appended.map((r) => seqOf(r.id))).toEqual([seqOf(cursor) + 1, seqOf(cursor) + 2]);
        expect(seqOf(cursor)).toBe(ids.length);
        // It replaces the 0.2.x one with the same collapse key, as 0.2.x did.
        expect(appended[0].replaced).toBe(ids[3]);
        expect(appended).toEqual(
          asUser(twinAppended, twinEpoch, epoch).map((r) => ({ ...r, userId: 'alice' })),
        );
        expect(await sut.replay('alice', ids[0])).toMatchObject({ truncated: true });
        await expectSameAsTwin();
      });

      it('marks old ids and all, and the counts follow', async () => {
        const { sut, twinLegacy, ids, twinIds, epoch, twinEpoch, expectSameAsTwin } =
          await richPair('alice', 'twin');
        const before = await twinLegacy.counts('twin');
        const marks = (of: string[]): MarkEventData[] => [
          { as: 'read', ids: [of[6]] },
          { as: 'archived', ids: [of[3], of[1], of[2]] }, // of[2] was collapsed
          { as: 'unread', ids: [of[4], of[0]] }, // of[0] was trimmed
          { as: 'unarchived', all: true },
          { as: 'seen', all: true, category: 'billing' },
          { as: 'archived', all: true, onlyRead: true },
        ];

        const [first, ...rest] = marks(ids);
        expect(before).toEqual({
          unread: 3,
          unseen: 2,
          categories: { social: { unread: 1, unseen: 1 }, billing: { unread: 1, unseen: 0 } },
        });

        // The first touch: reading the seen, unread billing one (0.2.x keeps no zero counts).
        const firstResult = await sut.mark('alice', first);
        expect(firstResult).toEqual({
          ids: [ids[6]],
          changed: 1,
          counts: { unread: 2, unseen: 2, categories: { social: { unread: 1, unseen: 1 } } },
          unreadBefore: 3,
        });
        const results = [firstResult];
        for (const selection of rest) results.push(await sut.mark('alice', selection));
        const twinResults = [];
        for (const selection of marks(twinIds)) {
          twinResults.push(await twinLegacy.mark('twin', selection));
        }

        expect(results).toEqual(asUser(twinResults, twinEpoch, epoch));
        await expectSameAsTwin();
      });

      it('expires a migrated notification when its time comes, for the sweeper', async () => {
        const { sut, twinLegacy, ids, expectSameAsTwin } = await richPair('alice', 'twin');
        vi.setSystemTime(START + 60_000 + 1);

        // The sweeper's work list names the user: 0.2.x put it there. The sweep is the first touch.
        expect(await sut.sweepExpired()).toEqual({ removed: 1, more: false });
        expect(await sut.sweepExpired()).toEqual({ removed: 0, more: false });

        expect(
          (await sut.list('alice', { limit: 10, status: 'all' })).items.map((i) => i.id),
        ).not.toContain(ids[1]);
        expect(await twinLegacy.counts('twin')).toEqual(await sut.counts('alice'));
        await expectSameAsTwin();
      });

      it('expires a migrated notification when its time comes, at the first read', async () => {
        const { sut, twinLegacy, ids, expectSameAsTwin } = await richPair('alice', 'twin');
        const before = await twinLegacy.counts('twin');
        vi.setSystemTime(START + 60_000 + 1);

        const counts = await sut.counts('alice');

        expect(counts).toEqual({ ...before, unread: before.unread - 1, unseen: before.unseen - 1 });
        expect(await twinLegacy.counts('twin')).toEqual(counts);
        expect(
          (await sut.list('alice', { limit: 10, status: 'all' })).items.map((i) => i.id),
        ).not.toContain(ids[1]);
        await expectSameAsTwin();
      });
    });

    it('leaves none of the 0.2.x-only keys of a user after its first touch', async () => {
      const { sut, legacy } = stores(RICH_LIMIT);
      const touches: Record<string, (ids: string[]) => Promise<unknown>> = {
        replay: (ids) => sut.replay('replay', ids[2]),
        list: () => sut.list('list', { limit: 1 }),
        counts: () => sut.counts('counts'),
        mark: (ids) => sut.mark('mark', { as: 'read', ids: [ids[6]] }),
        append: () =>
          sut.append([
            { userId: 'append', type: 'spec.item', payloadJson: '{}', dedupeKey: 'k-6' },
          ]),
        sweep: async () => {
          vi.setSystemTime(START + 60_000 + 1);
          return sut.sweepExpired();
        },
      };
      const left: string[] = [];
      for (const [user, touch] of Object.entries(touches)) {
        const ids = await writeRich(legacy, user);
        const keys = legacy.keys(user).data;
        // The history really was in the 0.2.x layout: each of these keys held something.
        for (const name of LEGACY_ONLY) {
          expect({ name, exists: await redis.exists(keys[name]) }).toEqual({ name, exists: 1 });
        }
        await touch(ids);
        for (const name of LEGACY_ONLY) {
          if ((await redis.exists(keys[name])) === 1) left.push(`${user}: ${name}`);
        }
      }
      expect(left).toEqual([]);
    });

    it('reads the same as 0.2.x after any sequence of 0.2.x appends and marks (property)', async () => {
      const LIMIT = 3;
      /** Half the time. */
      const maybe = <T>(values: T[]) =>
        fc.option(fc.constantFrom(...values), { nil: undefined, freq: 2 });
      const append = fc.record({
        kind: fc.constant('append' as const),
        user: fc.integer({ min: 0, max: 1 }),
        // A dedupe key used before now and then; unique (undefined) mostly.
        key: fc.constantFrom(undefined, undefined, undefined, 'a', 'b'),
        category: maybe(['billing', 'social']),
        collapseKey: maybe(['k1', 'k2']),
        expiresIn: maybe([500, HOUR]),
      });
      const mark = fc.record({
        kind: fc.constant('mark' as const),
        user: fc.integer({ min: 0, max: 1 }),
        as: fc.constantFrom<MarkAs>(...MARK_AS),
        picks: fc.array(fc.nat(20), { minLength: 1, maxLength: 3 }),
      });
      const markAll = fc.record({
        kind: fc.constant('markAll' as const),
        user: fc.integer({ min: 0, max: 1 }),
        as: fc.constantFrom<MarkAs>(...MARK_AS),
        category: fc.option(fc.constantFrom('billing', 'social'), { nil: undefined }),
        onlyRead: fc.boolean(),
      });
      const advance = fc.record({
        kind: fc.constant('advance' as const),
        ms: fc.constantFrom(100, 1000),
      });
      const users = ['alice', 'bob'];
      // Runs that had each of these, so that the property is known to have met them.
      const coverage = { trimmed: 0, collapsed: 0, expired: 0, marked: 0, beforeProtocol11: 0 };

      type ValueOf<A> = A extends fc.Arbitrary<infer T> ? T : never;
      type Op = ValueOf<typeof append> | ValueOf<typeof mark> | ValueOf<typeof advance>;
      const plain = {
        kind: 'append',
        user: 0,
        key: undefined,
        category: undefined,
        collapseKey: undefined,
        expiresIn: undefined,
      } as const;
      /** One run with all that coverage asks for, every time rather than by luck. */
      const everything: Op[] = [
        { ...plain, category: 'billing', collapseKey: 'k1' },
        { ...plain, collapseKey: 'k1' }, // collapses the first
        { ...plain, expiresIn: 500 },
        plain,
        plain, // the fifth: with a limit of 3, two are trimmed
        { kind: 'mark', user: 0, as: 'read', picks: [3] },
        { kind: 'advance', ms: 1000 }, // the third is due
      ];

      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.oneof({ weight: 3, arbitrary: append }, mark, markAll, advance), {
            minLength: 1,
            maxLength: 25,
            size: 'max',
          }),
          fc.boolean(),
          async (ops, beforeProtocol11) => {
            vi.setSystemTime(START);
            const { sut, legacy } = stores(LIMIT);
            const issued: string[][] = users.map(() => []);
            let unique = 0;
            const expiries: number[] = [];
            const seen = new Set<keyof typeof coverage>();
            for (const op of ops) {
              tick(10);
              if (op.kind === 'advance') {
                tick(op.ms);
                continue;
              }
              const userId = users[op.user];
              if (op.kind === 'append') {
                const result = await legacy.append(userId, {
                  type: 'spec.item',
                  payload: { n: unique },
                  dedupeKey: op.key ?? `unique-${unique++}`,
                  ...(op.category === undefined ? {} : { category: op.category }),
                  ...(op.collapseKey === undefined ? {} : { collapseKey: op.collapseKey }),
                  ...(op.expiresIn === undefined
                    ? {}
                    : { expiresAt: new Date(Date.now() + op.expiresIn).toISOString() }),
                });
                if (result.stored) issued[op.user].push(result.id);
                if (result.replaced !== undefined) seen.add('collapsed');
                if (result.stored && op.expiresIn !== undefined) {
                  expiries.push(Date.now() + op.expiresIn);
                }
              } else if (op.kind === 'mark') {
                const own = issued[op.user];
                const ids = op.picks.map((i) => own[i % Math.max(own.length, 1)] ?? 'none-1');
                if ((await legacy.mark(userId, { as: op.as, ids })).changed > 0) seen.add('marked');
              } else {
                const marked = await legacy.mark(userId, {
                  as: op.as,
                  all: true,
                  ...(op.category === undefined ? {} : { category: op.category }),
                  ...(op.onlyRead ? { onlyRead: true } : {}),
                });
                if (marked.changed > 0) seen.add('marked');
              }
            }
            if (beforeProtocol11) await redis.hdel(legacy.keys('alice').data.m, 't');
            if (beforeProtocol11) seen.add('beforeProtocol11');
            if (issued.some((ids) => ids.length > LIMIT)) seen.add('trimmed');
            if (expiries.some((at) => at <= Date.now())) seen.add('expired');
            for (const name of seen) coverage[name]++;

            for (const [index, userId] of users.entries()) {
              // A user without an append gets its epoch here, as 0.2.x gave it.
              const epoch = (await legacy.replay(userId, undefined)).head.epoch;
              const questions = questionsOf({
                since: [undefined, `${epoch}-0`, ...issued[index]],
                before: [],
                categories: ['billing'],
                pageSize: 3,
              });
              const recorded = await answersOf(legacy, userId, questions);
              expect(await answersOf(sut, userId, questions, 'list all')).toEqual(recorded);

              // And the sequence goes on.
              const [next] = await sut.append([
                { userId, type: 'spec.item', payloadJson: '{}', dedupeKey: 'after-migration' },
              ]);
              expect({ epoch: epochOf(next.id), seq: seqOf(next.id) }).toEqual({
                epoch,
                seq: issued[index].length + 1,
              });
            }
          },
        ),
        {
          numRuns: Number(process.env.MIGRATION_RUNS ?? 25),
          examples: [[everything, true]],
        },
      );
      console.log(`migration property runs: coverage ${JSON.stringify(coverage)}`);
      for (const [name, runs] of Object.entries(coverage)) {
        expect({ name, covered: runs > 0 }).toEqual({ name, covered: true });
      }
    }, 120_000);
  });
});
