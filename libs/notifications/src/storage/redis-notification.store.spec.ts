import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { parseNotificationId, type InboxPage, type Notification } from '@rtnotify/protocol';
import type { AppendRequest, AppendResult } from './notification.store.js';
import { NotificationsSettings } from '../notifications.settings.js';
import type { NotificationsRedis } from './notifications-redis.js';
import { RedisKeys } from './redis-keys.js';
import { RedisNotificationStore } from './redis-notification.store.js';

/*
 * Integration spec of the store against the real Redis the test run starts. Every test (and every
 * fast-check run) writes under its own random key prefix, so nothing leaks between them.
 */

interface ReplayFrame {
  event: string;
  data: { notification: Notification; unread: number };
}

let redis: Redis;

beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});

afterAll(async () => {
  await redis.quit();
});

function createSut(options: { historyLimit: number; historyMaxAgeSeconds?: number }): {
  sut: RedisNotificationStore;
  keys: RedisKeys;
} {
  const keyPrefix = `spec:store:${randomUUID()}`;
  const settings = new NotificationsSettings({ keyPrefix, ...options });
  const connection = { client: redis } as NotificationsRedis;
  return { sut: new RedisNotificationStore(connection, settings), keys: new RedisKeys(keyPrefix) };
}

function request(userId: string, dedupeKey: string, n = 0): AppendRequest {
  return { userId, type: 'spec.item', payloadJson: JSON.stringify({ n }), dedupeKey };
}

async function appendOne(
  sut: RedisNotificationStore,
  userId: string,
  dedupeKey: string,
  n = 0,
): Promise<AppendResult> {
  const [result] = await sut.append([request(userId, dedupeKey, n)]);
  return result;
}

/** Appends `count` notifications one by one, each with a dedupe key never used before. */
async function appendMany(
  sut: RedisNotificationStore,
  userId: string,
  count: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 0; n < count; n++) ids.push((await appendOne(sut, userId, randomUUID(), n)).id);
  return ids;
}

function seqOf(id: string): number {
  const parsed = parseNotificationId(id);
  if (!parsed) throw new Error(`not a notification id: ${id}`);
  return parsed.seq;
}

function epochOf(id: string): string {
  const parsed = parseNotificationId(id);
  if (!parsed) throw new Error(`not a notification id: ${id}`);
  return parsed.epoch;
}

function idsOf(page: InboxPage): string[] {
  return page.items.map((item) => item.id);
}

function parseFrames(frames: string[]): ReplayFrame[] {
  return frames.map((frame) => JSON.parse(frame) as ReplayFrame);
}

describe(RedisNotificationStore.name, () => {
  describe('model-based: the unread count never drifts from the history', () => {
    const USERS = ['alice', 'bob', 'carol'];
    const HISTORY_LIMIT = 7;

    /** Where an id given to markRead comes from, resolved against the model when it runs. */
    type IdPick =
      | { from: 'own'; index: number } // a retained id of the user, read or not
      | { from: 'other'; user: number; index: number } // a retained id of another user
      | { from: 'trimmed'; index: number } // an id of the user that was trimmed
      | { from: 'future'; offset: number } // the user's epoch with a sequence not issued yet
      | { from: 'garbage'; value: string };

    type SinceChoice =
      | { from: 'none' }
      | { from: 'cursor' }
      | { from: 'zero' }
      | { from: 'issued'; index: number }
      | { from: 'future'; offset: number };

    type Operation =
      | { kind: 'append'; requests: { user: number; dedupeKey: string | null }[] }
      | { kind: 'markRead'; user: number; picks: IdPick[]; twice: boolean }
      | { kind: 'markAllRead'; user: number }
      | { kind: 'replay'; user: number; since: SinceChoice };

    interface ModelEntry {
      id: string;
      read: boolean;
      dedupeKey: string;
      n: number;
    }

    interface ModelUser {
      /** Retained notifications, oldest first. */
      entries: ModelEntry[];
      /** Every id ever stored for the user, oldest first (its sequence is its index + 1). */
      issued: string[];
      trimmed: string[];
      /** Dedupe keys of trimmed notifications (and not stored again since). */
      forgottenKeys: Set<string>;
      epoch: string | undefined;
    }

    /** How often the interesting cases came up, to prove the runs exercised them. */
    const coverage = {
      trims: 0,
      dedupeHits: 0,
      trimmedKeyStoredAgain: 0,
      readChanged: 0,
      readNoop: 0,
      replayTruncated: 0,
      replayResumed: 0,
    };

    interface Observed {
      page: InboxPage;
      unread: number;
    }

    const user = fc.nat({ max: USERS.length - 1 });
    const pick: fc.Arbitrary<IdPick> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ from: fc.constant('own' as const), index: fc.nat() }) },
      {
        weight: 2,
        arbitrary: fc.record({ from: fc.constant('other' as const), user, index: fc.nat() }),
      },
      {
        weight: 1,
        arbitrary: fc.record({ from: fc.constant('trimmed' as const), index: fc.nat() }),
      },
      {
        weight: 1,
        arbitrary: fc.record({ from: fc.constant('future' as const), offset: fc.nat({ max: 3 }) }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          from: fc.constant('garbage' as const),
          value: fc.oneof(
            fc.string({ maxLength: 24 }),
            fc.constantFrom('', '1', '-1', '0-1', 'abc-1', 'ffffffffff-1', '*', '[', '%'),
          ),
        }),
      },
    );
    const since: fc.Arbitrary<SinceChoice> = fc.oneof(
      fc.constant({ from: 'none' as const }),
      fc.constant({ from: 'cursor' as const }),
      fc.constant({ from: 'zero' as const }),
      fc.record({ from: fc.constant('issued' as const), index: fc.nat() }),
      fc.record({ from: fc.constant('future' as const), offset: fc.nat({ max: 2 }) }),
    );
    const operation: fc.Arbitrary<Operation> = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({
          kind: fc.constant('append' as const),
          requests: fc.array(
            fc.record({
              user,
              // Mostly fresh keys, so histories overflow and trim; else one of a few shared keys.
              dedupeKey: fc.oneof(
                { weight: 3, arbitrary: fc.constant(null) },
                { weight: 2, arbitrary: fc.constantFrom('k1', 'k2', 'k3', 'k4') },
              ),
            }),
            { minLength: 1, maxLength: 3 },
          ),
        }),
      },
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant('markRead' as const),
          user,
          picks: fc.array(pick, { maxLength: 5 }),
          twice: fc.boolean(),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('markAllRead' as const), user }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('replay' as const), user, since }) },
    );

    const unreadOf = (model: ModelUser): number => model.entries.filter((e) => !e.read).length;

    function resolvePick(models: ModelUser[], target: number, choice: IdPick): string {
      const model = models[target];
      const at = (ids: string[], index: number): string =>
        ids.length === 0 ? 'nothing-0' : ids[index % ids.length];
      switch (choice.from) {
        case 'own':
          return at(
            model.entries.map((e) => e.id),
            choice.index,
          );
        case 'other': {
          const other = choice.user === target ? (target + 1) % USERS.length : choice.user;
          return at(
            models[other].entries.map((e) => e.id),
            choice.index,
          );
        }
        case 'trimmed':
          return at(model.trimmed, choice.index);
        case 'future':
          return `${model.epoch ?? 'noepoch'}-${model.issued.length + 1 + choice.offset}`;
        case 'garbage':
          return choice.value;
      }
    }

    function resolveSince(model: ModelUser, choice: SinceChoice): string | undefined {
      const epoch = model.epoch ?? 'noepoch';
      switch (choice.from) {
        case 'none':
          return undefined;
        case 'cursor':
          return `${epoch}-${model.issued.length}`;
        case 'zero':
          return `${epoch}-0`;
        case 'issued':
          return model.issued.length === 0
            ? `${epoch}-0`
            : model.issued[choice.index % model.issued.length];
        case 'future':
          return `${epoch}-${model.issued.length + 1 + choice.offset}`;
      }
    }

    async function observe(sut: RedisNotificationStore, userId: string): Promise<Observed> {
      const page = await sut.list(userId, { limit: 100 });
      const unread = await sut.unreadCount(userId);
      return { page, unread };
    }

    function checkInvariants(model: ModelUser, observed: Observed): void {
      const { page, unread } = observed;
      expect(unread).toBeGreaterThanOrEqual(0);
      expect(unread).toBe(page.items.filter((item) => !item.read).length);
      expect(page.unread).toBe(unread);
      expect(page.items.length).toBeLessThanOrEqual(HISTORY_LIMIT);
      expect(page.nextCursor).toBeNull();
      const parsed = page.items.map((item) => parseNotificationId(item.id));
      for (let i = 1; i < parsed.length; i++) {
        expect(parsed[i]?.epoch).toBe(parsed[0]?.epoch);
        expect(parsed[i]!.seq).toBeLessThan(parsed[i - 1]!.seq);
      }
      // And the store agrees with the model, item by item (newest first).
      expect(
        page.items.map((item) => ({ id: item.id, read: item.read, n: item.payload.n })),
      ).toEqual(
        [...model.entries]
          .reverse()
          .map((entry) => ({ id: entry.id, read: entry.read, n: entry.n })),
      );
    }

    /** Runs one operation on the store and the model; returns the users it may change. */
    async function step(
      sut: RedisNotificationStore,
      models: ModelUser[],
      op: Operation,
      nextN: () => number,
    ): Promise<Set<number>> {
      switch (op.kind) {
        case 'append': {
          const planned = op.requests.map((r) => ({
            user: r.user,
            dedupeKey: r.dedupeKey ?? `unique-${nextN()}`,
            n: nextN(),
          }));
          const results = await sut.append(
            planned.map((p) => request(USERS[p.user], p.dedupeKey, p.n)),
          );
          expect(results).toHaveLength(planned.length);
          planned.forEach((p, i) => {
            const model = models[p.user];
            const result = results[i];
            expect(result.userId).toBe(USERS[p.user]);
            const retained = model.entries.find((e) => e.dedupeKey === p.dedupeKey);
            if (retained) {
              coverage.dedupeHits++;
              expect(result).toEqual({
                userId: USERS[p.user],
                id: retained.id,
                stored: false,
                unread: unreadOf(model),
              });
              return;
            }
            expect(result.stored).toBe(true);
            if (model.forgottenKeys.delete(p.dedupeKey)) coverage.trimmedKeyStoredAgain++;
            expect(seqOf(result.id)).toBe(model.issued.length + 1);
            if (model.epoch !== undefined) expect(epochOf(result.id)).toBe(model.epoch);
            model.epoch = epochOf(result.id);
            model.issued.push(result.id);
            model.entries.push({ id: result.id, read: false, dedupeKey: p.dedupeKey, n: p.n });
            while (model.entries.length > HISTORY_LIMIT) {
              const trimmed = model.entries.shift()!;
              model.trimmed.push(trimmed.id);
              model.forgottenKeys.add(trimmed.dedupeKey);
              coverage.trims++;
            }
            expect(result.unread).toBe(unreadOf(model));
          });
          return new Set(planned.map((p) => p.user));
        }
        case 'markRead': {
          const model = models[op.user];
          const picked = op.picks.map((choice) => resolvePick(models, op.user, choice));
          const ids = op.twice ? [...picked, ...picked] : picked;
          const result = await sut.markRead(USERS[op.user], { ids });
          let changed = false;
          for (const id of ids) {
            const entry = model.entries.find((e) => e.id === id && !e.read);
            if (entry) {
              entry.read = true;
              changed = true;
            }
          }
          expect(result).toEqual({ unread: unreadOf(model), changed });
          if (changed) coverage.readChanged++;
          else if (ids.length > 0) coverage.readNoop++;
          return new Set([op.user]);
        }
        case 'markAllRead': {
          const model = models[op.user];
          const changed = unreadOf(model) > 0;
          for (const entry of model.entries) entry.read = true;
          expect(await sut.markRead(USERS[op.user], { all: true })).toEqual({ unread: 0, changed });
          return new Set([op.user]);
        }
        case 'replay': {
          const model = models[op.user];
          const sinceId = resolveSince(model, op.since);
          const result = await sut.replay(USERS[op.user], sinceId);
          // An empty history gets its epoch here: the ids stored next must carry it.
          model.epoch ??= result.head.epoch;
          expect(result.head.epoch).toBe(model.epoch);
          expect(result.cursor).toBe(`${model.epoch}-${model.issued.length}`);
          expect(result.unread).toBe(unreadOf(model));
          const parsedSince = sinceId === undefined ? undefined : parseNotificationId(sinceId);
          let expected: ModelEntry[] | 'truncated';
          if (sinceId === undefined) {
            expected = [];
          } else if (
            parsedSince === undefined ||
            parsedSince.epoch !== model.epoch ||
            parsedSince.seq > model.issued.length
          ) {
            expected = 'truncated';
          } else {
            // Truncated exactly when a notification after `since` is no longer retained.
            const oldest = model.entries.length === 0 ? undefined : seqOf(model.entries[0].id);
            const missed =
              oldest === undefined
                ? parsedSince.seq < model.issued.length
                : parsedSince.seq < oldest - 1;
            expected = missed
              ? 'truncated'
              : model.entries.filter((e) => seqOf(e.id) > parsedSince.seq);
          }
          if (expected === 'truncated') {
            coverage.replayTruncated++;
            expect(result.truncated).toBe(true);
            expect(result.frames).toEqual([]);
          } else {
            if (expected.length > 0) coverage.replayResumed++;
            expect(result.truncated).toBe(false);
            const frames = parseFrames(result.frames);
            expect(
              frames.map((f) => ({
                event: f.event,
                id: f.data.notification.id,
                read: f.data.notification.read,
                unread: f.data.unread,
              })),
            ).toEqual(
              expected.map((e) => ({
                event: 'notification',
                id: e.id,
                read: e.read,
                unread: unreadOf(model),
              })),
            );
          }
          return new Set();
        }
      }
    }

    it('keeps unread == unread items of the history, per user, after any operation sequence', async () => {
      for (const name of Object.keys(coverage)) coverage[name as keyof typeof coverage] = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(operation, { minLength: 1, maxLength: 40, size: 'max' }),
          async (ops) => {
            const { sut } = createSut({ historyLimit: HISTORY_LIMIT });
            const models: ModelUser[] = USERS.map(() => ({
              entries: [],
              issued: [],
              trimmed: [],
              forgottenKeys: new Set<string>(),
              epoch: undefined,
            }));
            let counter = 0;
            const nextN = () => counter++;
            let before = await Promise.all(USERS.map((u) => observe(sut, u)));
            for (const op of ops) {
              const touched = await step(sut, models, op, nextN);
              const after = await Promise.all(USERS.map((u) => observe(sut, u)));
              USERS.forEach((_, i) => {
                checkInvariants(models[i], after[i]);
                if (!touched.has(i)) expect(after[i]).toEqual(before[i]);
              });
              before = after;
            }
          },
        ),
        { numRuns: 50 },
      );
      for (const [name, count] of Object.entries(coverage)) {
        expect({ name, covered: count > 0 }).toEqual({ name, covered: true });
      }
    });
  });

  describe('markRead', () => {
    it('counts an id read twice once, also within one call', async () => {
      const { sut } = createSut({ historyLimit: 10 });
      const [first, second] = await appendMany(sut, 'alice', 3);

      expect(await sut.markRead('alice', { ids: [first, first, second, first] })).toEqual({
        unread: 1,
        changed: true,
      });
      expect(await sut.markRead('alice', { ids: [first] })).toEqual({ unread: 1, changed: false });
      expect(await sut.unreadCount('alice')).toBe(1);
    });

    it("changes nothing when given another user's ids", async () => {
      const { sut } = createSut({ historyLimit: 10 });
      const aliceIds = await appendMany(sut, 'alice', 2);
      await appendMany(sut, 'bob', 2);

      expect(await sut.markRead('bob', { ids: aliceIds })).toEqual({ unread: 2, changed: false });
      expect(await sut.unreadCount('alice')).toBe(2);
      expect(await sut.unreadCount('bob')).toBe(2);
    });

    it('never goes below zero', async () => {
      const { sut } = createSut({ historyLimit: 10 });
      expect(await sut.markRead('alice', { all: true })).toEqual({ unread: 0, changed: false });
      expect(await sut.markRead('alice', { ids: ['x', 'abc-1', ''] })).toEqual({
        unread: 0,
        changed: false,
      });
      const ids = await appendMany(sut, 'alice', 2);

      expect(await sut.markRead('alice', { all: true })).toEqual({ unread: 0, changed: true });
      expect(await sut.markRead('alice', { all: true })).toEqual({ unread: 0, changed: false });
      expect(await sut.markRead('alice', { ids })).toEqual({ unread: 0, changed: false });
      expect(await sut.unreadCount('alice')).toBe(0);
    });
  });

  describe('replay', () => {
    it('is truncated exactly when since is older than the oldest retained minus one', async () => {
      const { sut } = createSut({ historyLimit: 3 });
      const ids = await appendMany(sut, 'alice', 7); // seq 1..7; 5, 6 and 7 are retained
      const epoch = epochOf(ids[0]);
      await sut.markRead('alice', { ids: [ids[5]] });

      for (let seq = 0; seq <= 8; seq++) {
        const result = await sut.replay('alice', `${epoch}-${seq}`);

        expect(result.cursor).toBe(`${epoch}-7`);
        expect(result.unread).toBe(2);
        if (seq < 4 || seq > 7) {
          expect({ seq, truncated: result.truncated, frames: result.frames }).toEqual({
            seq,
            truncated: true,
            frames: [],
          });
        } else {
          const frames = parseFrames(result.frames);
          expect({ seq, truncated: result.truncated }).toEqual({ seq, truncated: false });
          expect(frames.map((f) => f.data.notification.id)).toEqual(ids.slice(seq));
          expect(frames.map((f) => f.data.notification.read)).toEqual(
            ids.slice(seq).map((id) => id === ids[5]),
          );
        }
      }
    });

    it('returns nothing and is not truncated for since = cursor, empty or trimmed history', async () => {
      const { sut } = createSut({ historyLimit: 2 });

      const empty = await sut.replay('alice', undefined);
      expect(empty).toMatchObject({ frames: [], truncated: false, unread: 0 });
      expect(empty.cursor).toBe(`${empty.head.epoch}-0`);
      expect(await sut.replay('alice', empty.cursor)).toMatchObject({
        frames: [],
        truncated: false,
        cursor: empty.cursor,
      });

      // The cursor of the empty history resumes onto what is stored next.
      const [first] = await appendMany(sut, 'alice', 1);
      expect(epochOf(first)).toBe(empty.head.epoch);
      const resumed = await sut.replay('alice', empty.cursor);
      expect(resumed.truncated).toBe(false);
      expect(parseFrames(resumed.frames).map((f) => f.data.notification.id)).toEqual([first]);

      await appendMany(sut, 'alice', 4); // trims 1..3
      const head = await sut.replay('alice', undefined);
      expect(head.cursor).toBe(`${empty.head.epoch}-5`);
      expect(await sut.replay('alice', head.cursor)).toMatchObject({
        frames: [],
        truncated: false,
        cursor: head.cursor,
      });
    });

    it('is truncated for an id of another epoch or one it could not have issued', async () => {
      const { sut } = createSut({ historyLimit: 5 });
      const [bobId] = await appendMany(sut, 'bob', 1);
      await appendMany(sut, 'alice', 2);

      for (const since of [bobId, 'garbage', '', 'abc-x']) {
        expect(await sut.replay('alice', since)).toMatchObject({ frames: [], truncated: true });
      }
    });
  });

  describe('list', () => {
    it.each([1, 2, 3, 4, 5, 9, 10, 11])(
      'pages with before (limit %i) without overlap or gap',
      async (limit) => {
        const { sut } = createSut({ historyLimit: 10 });
        const ids = await appendMany(sut, 'alice', 13); // the 3 oldest are trimmed
        await sut.markRead('alice', { ids: [ids[4], ids[9]] });
        const everything = await sut.list('alice', { limit: 100 });
        expect(idsOf(everything)).toEqual(ids.slice(3).reverse());

        const seen: string[] = [];
        const pages: InboxPage[] = [];
        let before: string | undefined;
        do {
          const page = await sut.list('alice', { limit, before });
          pages.push(page);
          seen.push(...idsOf(page));
          before = page.nextCursor ?? undefined;
        } while (before !== undefined && pages.length <= 20);

        expect(seen).toEqual(idsOf(everything));
        expect(pages.flatMap((p) => p.items)).toEqual(everything.items);
        expect(pages).toHaveLength(Math.ceil(10 / limit));
        for (const page of pages.slice(0, -1)) {
          expect(page.items).toHaveLength(limit);
          expect(page.nextCursor).toBe(page.items[limit - 1].id);
        }
        expect(pages.at(-1)?.nextCursor).toBeNull();
        expect(pages.every((p) => p.unread === 8)).toBe(true);
      },
    );

    it('returns an empty last page for a cursor before the retained history or not its own', async () => {
      const { sut } = createSut({ historyLimit: 3 });
      const ids = await appendMany(sut, 'alice', 5);
      const [bobId] = await appendMany(sut, 'bob', 1);

      for (const before of [ids[0], ids[2], bobId, 'garbage']) {
        expect(await sut.list('alice', { limit: 10, before })).toEqual({
          items: [],
          unread: 3,
          nextCursor: null,
        });
      }
      expect(idsOf(await sut.list('alice', { limit: 10, before: ids[3] }))).toEqual([ids[2]]);
    });
  });

  describe('historyMaxAgeSeconds', () => {
    const HOUR = 3600_000;

    afterEach(() => {
      vi.useRealTimers();
    });

    /** Appends as if it were `at` (only Date is faked, so ioredis's timers keep working). */
    async function appendAt(
      sut: RedisNotificationStore,
      at: number,
      requests: AppendRequest[],
    ): Promise<AppendResult[]> {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(at);
      try {
        return await sut.append(requests);
      } finally {
        vi.useRealTimers();
      }
    }

    it('trims entries older than the cutoff, with their dedupe keys, on the next append', async () => {
      const { sut, keys } = createSut({ historyLimit: 50, historyMaxAgeSeconds: 2 * 3600 });
      const now = Date.now();
      const [old1, old2] = await appendAt(sut, now - 3 * HOUR, [
        request('alice', 'old-1'),
        request('alice', 'old-2'),
      ]);
      // Within the max age of the old ones, and still within it at `now`.
      const [recent] = await appendAt(sut, now - 1.5 * HOUR, [request('alice', 'recent')]);
      await sut.markRead('alice', { ids: [old1.id] });
      // Nothing is trimmed until the next append.
      expect(idsOf(await sut.list('alice', { limit: 100 }))).toEqual([recent.id, old2.id, old1.id]);

      const fresh = await appendOne(sut, 'alice', 'fresh');

      expect(fresh).toMatchObject({ stored: true, unread: 2 });
      const page = await sut.list('alice', { limit: 100 });
      expect(idsOf(page)).toEqual([fresh.id, recent.id]);
      expect(page.unread).toBe(2);
      expect(await sut.unreadCount('alice')).toBe(2);
      expect((await redis.hkeys(keys.forUser('alice').dedupe)).sort()).toEqual(['fresh', 'recent']);
      // Resuming after the first trimmed entry lost something; after the last one, nothing.
      expect(await sut.replay('alice', old1.id)).toMatchObject({ truncated: true, frames: [] });
      const resumed = await sut.replay('alice', old2.id);
      expect(resumed.truncated).toBe(false);
      expect(parseFrames(resumed.frames).map((f) => f.data.notification.id)).toEqual([
        recent.id,
        fresh.id,
      ]);
      // A trimmed key can be stored again; a retained one cannot.
      expect(await appendOne(sut, 'alice', 'old-1')).toMatchObject({ stored: true, unread: 3 });
      expect(await appendOne(sut, 'alice', 'recent')).toEqual({
        userId: 'alice',
        id: recent.id,
        stored: false,
        unread: 3,
      });
    });

    it('trims every entry older than the cutoff, also more than 100 of them', async () => {
      const { sut } = createSut({ historyLimit: 1000, historyMaxAgeSeconds: 3600 });
      const old = Array.from({ length: 101 }, (_, i) => request('alice', `old-${i}`));
      await appendAt(sut, Date.now() - 3 * HOUR, old);

      const fresh = await appendOne(sut, 'alice', 'fresh');

      expect(idsOf(await sut.list('alice', { limit: 1000 }))).toEqual([fresh.id]);
      expect(await sut.unreadCount('alice')).toBe(1);
    });

    it('gives every key of the user a TTL of at most historyMaxAgeSeconds', async () => {
      const { sut, keys } = createSut({ historyLimit: 50, historyMaxAgeSeconds: 3600 });
      await sut.replay('bob', undefined);
      expect(await redis.ttl(keys.forUser('bob').meta)).toBeGreaterThan(0);

      await appendOne(sut, 'alice', 'k');

      const k = keys.forUser('alice');
      for (const key of [k.history, k.unread, k.meta, k.dedupe, k.dedupeBySeq]) {
        const ttl = await redis.ttl(key);
        expect({ key, ttl: ttl > 0 && ttl <= 3600 }).toEqual({ key, ttl: true });
      }
    });

    it('sets no TTL without a max age', async () => {
      const { sut, keys } = createSut({ historyLimit: 50 });
      await appendOne(sut, 'alice', 'k');

      const k = keys.forUser('alice');
      for (const key of [k.history, k.unread, k.meta, k.dedupe, k.dedupeBySeq]) {
        expect({ key, ttl: await redis.ttl(key) }).toEqual({ key, ttl: -1 });
      }
    });
  });

  describe('dedupe', () => {
    it('keeps at most historyLimit keys and forgets those of trimmed notifications', async () => {
      const limit = 5;
      const { sut, keys } = createSut({ historyLimit: limit });
      const k = keys.forUser('alice');
      const results: AppendResult[] = [];
      for (let batch = 0; batch < 3; batch++) {
        const requests = Array.from({ length: limit }, (_, i) =>
          request('alice', `key-${batch * limit + i}`),
        );
        results.push(...(await sut.append(requests)));
      }
      expect(results.every((r) => r.stored)).toBe(true);

      expect(await redis.hlen(k.dedupe)).toBeLessThanOrEqual(limit);
      expect(await redis.zcard(k.dedupeBySeq)).toBeLessThanOrEqual(limit);
      expect((await redis.hkeys(k.dedupe)).sort()).toEqual(
        ['key-10', 'key-11', 'key-12', 'key-13', 'key-14'].sort(),
      );

      const again = await appendOne(sut, 'alice', 'key-0');
      expect(again.stored).toBe(true);
      expect(seqOf(again.id)).toBe(16);
      expect(await appendOne(sut, 'alice', 'key-14')).toMatchObject({
        stored: false,
        id: results[14].id,
      });
      expect(await redis.hlen(k.dedupe)).toBeLessThanOrEqual(limit);
    });

    it('stores a key once per user, also within one batch', async () => {
      const { sut } = createSut({ historyLimit: 5 });

      const [a1, a2, b1] = await sut.append([
        request('alice', 'same'),
        request('alice', 'same'),
        request('bob', 'same'),
      ]);

      expect(a1).toMatchObject({ stored: true, unread: 1 });
      expect(a2).toEqual({ userId: 'alice', id: a1.id, stored: false, unread: 1 });
      expect(b1).toMatchObject({ userId: 'bob', stored: true, unread: 1 });
      expect(await sut.unreadCount('alice')).toBe(1);
    });
  });
});
