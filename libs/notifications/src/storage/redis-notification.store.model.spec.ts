import fc from 'fast-check';
import { MARK_AS, parseNotificationId, type MarkAs, type Notification } from '@rtnotify/protocol';
import { RedisNotificationStore } from './redis-notification.store.js';
import {
  ChannelLog,
  checkInvariants,
  checkListings,
  observe,
  operation,
} from './store-model-harness-spec-kit.js';
import {
  HISTORY_LIMIT,
  START,
  USERS,
  applyMark,
  countsOf,
  coverage,
  expireModels,
  listed,
  markFrames,
  markedKinds,
  removeEntry,
  resolvePick,
  resolveSince,
  unreadOf,
  visible,
  type Frame,
  type IdPick,
  type ModelEntry,
  type ModelUser,
  type Operation,
} from './store-model-spec-kit.js';
import { createSut, epochOf, request, seqOf, useRedis } from './store-spec-kit.js';

/*
 * The model-based spec of the store: random sequences of appends, marks, replays, listings and
 * passing time, run on the store and on its reference model (store-model-spec-kit.ts) side by side.
 */

useRedis();

/** Archive every read one (`onlyRead`): one notification, read, then archived with the rest. */
const ARCHIVE_ALL_READ: Operation[] = [
  {
    kind: 'append',
    requests: [
      { user: 0, dedupeKey: null, category: 'billing', collapseKey: null, expiresIn: null },
    ],
  },
  { kind: 'mark', user: 0, as: 'read', picks: [{ from: 'own', index: 0 }], twice: false },
  { kind: 'markAll', user: 0, as: 'archived', category: null, onlyRead: true },
];

/** The state a way of marking undoes, which its notifications must be put in first. */
const UNDOES: Partial<Record<MarkAs, MarkAs>> = { unread: 'read', unarchived: 'archived' };

/**
 * Each way of marking, by id and all at once, changing something: two notifications (put in the
 * state it undoes, if any), then the first marked by id and the other with all. The coverage check
 * asks for every one of these kinds, which the random runs hit only now and then (a clean-clone CI
 * run missed mark-all-unread once, on Node 24, and mark-all-unarchived once, on Node 20).
 */
const MARKED_EACH_WAY: Operation[][] = MARK_AS.map((as) => {
  const fresh = { user: 0, dedupeKey: null, category: null, collapseKey: null, expiresIn: null };
  const ops: Operation[] = [{ kind: 'append', requests: [fresh, fresh] }];
  const undone = UNDOES[as];
  if (undone !== undefined) {
    const both: IdPick[] = [
      { from: 'own', index: 0 },
      { from: 'own', index: 1 },
    ];
    ops.push({ kind: 'mark', user: 0, as: undone, picks: both, twice: false });
  }
  ops.push({ kind: 'mark', user: 0, as, picks: [{ from: 'own', index: 0 }], twice: false });
  ops.push({ kind: 'markAll', user: 0, as, category: null, onlyRead: false });
  return ops;
});

/** A key stored again after its notification was collapsed away: the dedupe answers the removed id. */
const COLLAPSED_KEY_AGAIN: Operation[] = [
  {
    kind: 'append',
    requests: [
      { user: 0, dedupeKey: 'first', category: null, collapseKey: 'thread', expiresIn: null },
      { user: 0, dedupeKey: 'second', category: null, collapseKey: 'thread', expiresIn: null },
    ],
  },
  {
    kind: 'append',
    requests: [{ user: 0, dedupeKey: 'first', category: null, collapseKey: null, expiresIn: null }],
  },
];

describe(RedisNotificationStore.name, () => {
  describe('model-based: no count drifts from the history or goes negative', () => {
    interface StepContext {
      sut: RedisNotificationStore;
      models: ModelUser[];
      log: ChannelLog;
      nextN: () => number;
      clock: { now: number };
    }

    /** Runs one operation on the store and the model; returns the users it may change. */
    async function step(context: StepContext, op: Operation): Promise<Set<number>> {
      const { sut, models, log, nextN, clock } = context;
      switch (op.kind) {
        case 'append': {
          const planned = op.requests.map((r) => ({
            ...r,
            dedupeKey: r.dedupeKey ?? `unique-${nextN()}`,
            n: nextN(),
          }));
          const results = await sut.append(
            planned.map((p) => ({
              ...request(USERS[p.user], p.dedupeKey, p.n),
              ...(p.category === null ? {} : { category: p.category }),
              ...(p.collapseKey === null ? {} : { collapseKey: p.collapseKey }),
              ...(p.expiresIn === null
                ? {}
                : { expiresAt: new Date(clock.now + p.expiresIn).toISOString() }),
            })),
          );
          expect(results).toHaveLength(planned.length);
          const frames = USERS.map((): Frame[] => []);
          planned.forEach((p, i) => {
            const model = models[p.user];
            const result = results[i];
            expect(result.userId).toBe(USERS[p.user]);
            const known = model.dedupe.find((d) => d.key === p.dedupeKey);
            if (known) {
              coverage.dedupeHits++;
              if (model.removed.includes(known.id)) coverage.dedupeHitOfRemoved++;
              expect(result).toEqual({
                userId: USERS[p.user],
                id: known.id,
                stored: false,
                unread: unreadOf(model),
              });
              return;
            }
            expect(result.stored).toBe(true);
            if (model.storedKeys.has(p.dedupeKey)) coverage.trimmedKeyStoredAgain++;
            model.storedKeys.add(p.dedupeKey);
            const seq = model.issued.length + 1;
            expect(seqOf(result.id)).toBe(seq);
            if (model.epoch !== undefined) expect(epochOf(result.id)).toBe(model.epoch);
            model.epoch = epochOf(result.id);
            model.issued.push(result.id);
            const entry: ModelEntry = {
              id: result.id,
              seq,
              read: false,
              seen: false,
              archived: false,
              n: p.n,
              createdAt: new Date(clock.now).toISOString(),
            };
            if (p.category !== null) {
              entry.category = p.category;
              coverage.categorized++;
            }
            if (p.expiresIn !== null) entry.expiresAt = clock.now + p.expiresIn;
            let replaced: ModelEntry | undefined;
            if (p.collapseKey !== null) {
              entry.collapseKey = p.collapseKey;
              const headSeq = model.collapseHeads.get(p.collapseKey);
              const head = model.entries.find((e) => e.seq === headSeq);
              if (head && !head.read && !head.archived) {
                replaced = head;
                removeEntry(model, head);
                entry.seen = head.seen;
                entry.collapsedCount = (head.collapsedCount ?? 1) + 1;
                entry.replaces = head.id;
                coverage.collapsed++;
              } else if (head) {
                coverage.collapseRefused++;
              }
              model.collapseHeads.set(p.collapseKey, seq);
            }
            expect(result.replaced).toBe(replaced?.id);
            model.entries.push(entry);
            model.dedupe.push({ seq, key: p.dedupeKey, id: result.id });
            const excess = model.entries.length - HISTORY_LIMIT;
            if (excess > 0) {
              const trimTo = model.entries[excess - 1].seq;
              for (const trimmed of model.entries.splice(0, excess)) {
                model.trimmed.push(trimmed.id);
                coverage.trims++;
              }
              model.trimmedUpTo = trimTo;
              model.dedupe = model.dedupe.filter((d) => d.seq > trimTo);
              for (const [key, headSeq] of model.collapseHeads) {
                if (headSeq <= trimTo) model.collapseHeads.delete(key);
              }
            }
            model.dedupe = model.dedupe.slice(-HISTORY_LIMIT);
            const counts = countsOf(model);
            expect(result.unread).toBe(counts.unread);
            frames[p.user].push({
              event: 'notification',
              data: { notification: visible(entry), unread: counts.unread, counts },
            });
            if (replaced) {
              frames[p.user].push({
                event: 'removed',
                data: { ids: [replaced.id], reason: 'collapsed', counts },
              });
            }
          });
          for (let index = 0; index < USERS.length; index++) {
            await log.expectNext(index, frames[index]);
          }
          return new Set(planned.map((p) => p.user));
        }
        case 'mark':
        case 'markRead': {
          const model = models[op.user];
          const picked = op.picks.map((choice) => resolvePick(models, op.user, choice));
          const ids = op.kind === 'mark' && op.twice ? [...picked, ...picked] : picked;
          const as = op.kind === 'mark' ? op.as : 'read';
          const unreadBefore = unreadOf(model);
          const selected = [...new Set(ids)]
            .map((id) => model.entries.find((e) => e.id === id))
            .filter((e): e is ModelEntry => e !== undefined);
          const changed = applyMark(as, selected);
          const counts = countsOf(model);
          if (op.kind === 'mark') {
            const result = await sut.mark(USERS[op.user], { as, ids });
            expect(result).toEqual({ ids: changed, changed: changed.length, counts, unreadBefore });
          } else {
            const result = await sut.markRead(USERS[op.user], { ids });
            expect(result).toEqual({
              unread: counts.unread,
              changed: counts.unread !== unreadBefore,
            });
          }
          if (changed.length > 0) markedKinds.add(`${as}:ids`);
          if (changed.length > 0) coverage.markChanged++;
          else if (ids.length > 0) coverage.markNoop++;
          await log.expectNext(
            op.user,
            markFrames(model, unreadBefore, changed, { as, ids: changed }),
          );
          return new Set([op.user]);
        }
        case 'markSequence': {
          for (const as of op.sequence) {
            await step(context, {
              kind: 'mark',
              user: op.user,
              as,
              picks: [{ from: 'own', index: op.index }],
              twice: false,
            });
          }
          return new Set([op.user]);
        }
        case 'markAll':
        case 'markAllRead': {
          const model = models[op.user];
          const as = op.kind === 'markAll' ? op.as : 'read';
          const only = op.kind === 'markAll' ? op.category : null;
          const onlyRead = op.kind === 'markAll' && op.onlyRead;
          const unreadBefore = unreadOf(model);
          const selected = model.entries.filter(
            (e) =>
              (as === 'unarchived') === e.archived &&
              (only === null || e.category === only) &&
              (!onlyRead || e.read),
          );
          const changed = applyMark(as, selected);
          const counts = countsOf(model);
          if (op.kind === 'markAll') {
            const result = await sut.mark(USERS[op.user], {
              as,
              all: true,
              ...(only === null ? {} : { category: only }),
              ...(onlyRead ? { onlyRead } : {}),
            });
            expect({ ...result, ids: [...result.ids].sort() }).toEqual({
              ids: [...changed].sort(),
              changed: changed.length,
              counts,
              unreadBefore,
            });
          } else {
            expect(await sut.markRead(USERS[op.user], { all: true })).toEqual({
              unread: 0,
              changed: counts.unread !== unreadBefore,
            });
          }
          if (changed.length > 0) {
            markedKinds.add(`${as}:all`);
            if (only !== null) coverage.markAllByCategory++;
            if (as === 'archived' && onlyRead) coverage.archiveAllRead++;
          }
          const what: Record<string, unknown> = { as, all: true };
          if (only !== null) what.category = only;
          if (onlyRead) what.onlyRead = true;
          await log.expectNext(op.user, markFrames(model, unreadBefore, changed, what));
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
          const counts = countsOf(model);
          expect(result.unread).toBe(counts.unread);
          expect(result.counts).toEqual(counts);
          const parsedSince = sinceId === undefined ? undefined : parseNotificationId(sinceId);
          let expected: ModelEntry[] | 'truncated';
          if (sinceId === undefined) {
            expected = [];
          } else if (
            parsedSince === undefined ||
            parsedSince.epoch !== model.epoch ||
            parsedSince.seq > model.issued.length ||
            // Only trims lose something; collapsed and expired ones are not missed.
            parsedSince.seq < model.trimmedUpTo
          ) {
            expected = 'truncated';
          } else {
            expected = model.entries.filter((e) => e.seq > parsedSince.seq);
          }
          if (expected === 'truncated') {
            coverage.replayTruncated++;
            expect(result.truncated).toBe(true);
            expect(result.frames).toEqual([]);
          } else {
            if (expected.length > 0) coverage.replayResumed++;
            expect(result.truncated).toBe(false);
            expect(result.frames.map((f) => JSON.parse(f) as Frame)).toEqual(
              expected.map((e) => ({
                event: 'notification',
                data: { notification: visible(e), unread: counts.unread, counts },
              })),
            );
          }
          return new Set();
        }
        case 'advance': {
          clock.now += op.ms;
          vi.setSystemTime(clock.now);
          const expired = expireModels(models, clock.now);
          if (op.sweep) {
            // The sweeper finds every user with something due, without anyone reading.
            let due = 0;
            for (const frames of expired.values()) {
              due += (frames[0].data.ids as string[]).length;
            }
            expect(await sut.sweepExpired()).toMatchObject({ removed: due });
            if (due > 0) coverage.swept++;
          }
          // Without a sweep, the next read of each user removes them.
          for (let index = 0; index < USERS.length; index++) {
            if (!op.sweep) await sut.counts(USERS[index]);
            await log.expectNext(index, expired.get(index) ?? []);
          }
          return new Set(USERS.map((_, i) => i));
        }
        case 'page': {
          const model = models[op.user];
          const items: Notification[] = [];
          let before: string | undefined;
          let pages = 0;
          do {
            const page = await sut.list(USERS[op.user], {
              limit: op.limit,
              status: op.status,
              ...(op.category === null ? {} : { category: op.category }),
              ...(before === undefined ? {} : { before }),
            });
            expect(page.items.length).toBeLessThanOrEqual(op.limit);
            items.push(...page.items);
            before = page.nextCursor ?? undefined;
            pages++;
          } while (before !== undefined && pages <= HISTORY_LIMIT + 1);
          expect(items).toEqual(listed(model, op.status, op.category));
          if (pages > 1 && (op.category !== null || op.status !== 'all')) coverage.pagedFiltered++;
          return new Set();
        }
      }
    }

    it('keeps every count equal to what the history says, per user and category, after any operation sequence', async () => {
      for (const name of Object.keys(coverage)) coverage[name as keyof typeof coverage] = 0;
      markedKinds.clear();
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        await fc.assert(
          fc.asyncProperty(
            fc.array(operation, { minLength: 1, maxLength: 40, size: 'max' }),
            async (ops) => {
              const clock = { now: START };
              vi.setSystemTime(clock.now);
              const { sut, keyPrefix } = createSut({ historyLimit: HISTORY_LIMIT });
              const log = new ChannelLog();
              await log.start(keyPrefix);
              try {
                const models: ModelUser[] = USERS.map(() => ({
                  entries: [],
                  issued: [],
                  trimmed: [],
                  removed: [],
                  trimmedUpTo: 0,
                  dedupe: [],
                  storedKeys: new Set<string>(),
                  collapseHeads: new Map(),
                  epoch: undefined,
                }));
                let counter = 0;
                const context: StepContext = { sut, models, log, nextN: () => counter++, clock };
                let before = await Promise.all(USERS.map((u) => observe(sut, u)));
                for (const op of ops) {
                  const touched = await step(context, op);
                  const after = await Promise.all(USERS.map((u) => observe(sut, u)));
                  for (let i = 0; i < USERS.length; i++) {
                    checkInvariants(after[i]);
                    expect(after[i].page.items).toEqual(listed(models[i], 'all', null));
                    expect(after[i].counts).toEqual(countsOf(models[i]));
                    if (!touched.has(i)) expect(after[i]).toEqual(before[i]);
                    else await checkListings(sut, models[i], USERS[i]);
                  }
                  before = after;
                }
                // Nothing was published that the model did not expect.
                for (let index = 0; index < USERS.length; index++) await log.expectNext(index, []);
              } finally {
                await log.stop();
              }
            },
          ),
          // MODEL_RUNS=n runs it longer, to hunt for a counterexample.
          {
            numRuns: Number(process.env.MODEL_RUNS ?? 60),
            // The rarest cases the coverage check asks for, run every time rather than by luck (the
            // random runs hit each 1–6 times in 60, and now and then not at all).
            examples: [
              [ARCHIVE_ALL_READ],
              [COLLAPSED_KEY_AGAIN],
              ...MARKED_EACH_WAY.map((ops) => [ops] as [Operation[]]),
            ],
          },
        );
      } finally {
        vi.useRealTimers();
      }
      for (const [name, count] of Object.entries(coverage)) {
        expect({ name, covered: count > 0 }).toEqual({ name, covered: true });
      }
      for (const as of MARK_AS) {
        for (const mode of ['ids', 'all']) {
          expect({ kind: `${as}:${mode}`, covered: markedKinds.has(`${as}:${mode}`) }).toEqual({
            kind: `${as}:${mode}`,
            covered: true,
          });
        }
      }
      console.log(`model-based store runs: coverage ${JSON.stringify(coverage)}`);
    }, 240_000);
  });
});
