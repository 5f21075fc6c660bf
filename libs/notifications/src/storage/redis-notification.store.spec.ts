import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import {
  INBOX_STATUSES,
  MARK_AS,
  parseNotificationId,
  type InboxPage,
  type InboxStatus,
  type MarkAs,
  type Notification,
  type NotificationCounts,
} from '@rtnotify/protocol';
import { decodeChannelMessage } from './channel-message.js';
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
  keyPrefix: string;
} {
  const keyPrefix = `spec:store:${randomUUID()}`;
  const settings = new NotificationsSettings({ keyPrefix, ...options });
  const connection = { client: redis } as NotificationsRedis;
  return {
    sut: new RedisNotificationStore(connection, settings),
    keys: new RedisKeys(keyPrefix),
    keyPrefix,
  };
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

const byCodeUnits = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);

function parseFrames(frames: string[]): ReplayFrame[] {
  return frames.map((frame) => JSON.parse(frame) as ReplayFrame);
}

describe(RedisNotificationStore.name, () => {
  describe('model-based: no count drifts from the history or goes negative', () => {
    const USERS = ['alice', 'bob'];
    const CATEGORIES = ['billing', 'social'];
    const HISTORY_LIMIT = 5;
    const START = Date.parse('2030-01-01T00:00:00.000Z');

    /** Where an id given to a mark comes from, resolved against the model when it runs. */
    type IdPick =
      | { from: 'own'; index: number } // a retained id of the user, in any state
      | { from: 'other'; user: number; index: number } // a retained id of another user
      | { from: 'trimmed'; index: number } // an id of the user that was trimmed
      | { from: 'removed'; index: number } // an id of the user that was collapsed or expired
      | { from: 'future'; offset: number } // the user's epoch with a sequence not issued yet
      | { from: 'garbage'; value: string };

    type SinceChoice =
      | { from: 'none' }
      | { from: 'cursor' }
      | { from: 'zero' }
      | { from: 'issued'; index: number }
      | { from: 'future'; offset: number };

    interface AppendPlan {
      user: number;
      dedupeKey: string | null;
      category: string | null;
      collapseKey: string | null;
      /** Expires this many ms after now. */
      expiresIn: number | null;
    }

    type Operation =
      | { kind: 'append'; requests: AppendPlan[] }
      | { kind: 'mark'; user: number; as: MarkAs; picks: IdPick[]; twice: boolean }
      | {
          kind: 'markAll';
          user: number;
          as: MarkAs;
          category: string | null;
          onlyRead: boolean;
        }
      | { kind: 'markSequence'; user: number; index: number; sequence: MarkAs[] }
      | { kind: 'markRead'; user: number; picks: IdPick[] } // v1
      | { kind: 'markAllRead'; user: number } // v1
      | { kind: 'replay'; user: number; since: SinceChoice }
      | { kind: 'advance'; ms: number; sweep: boolean }
      | {
          kind: 'page';
          user: number;
          status: InboxStatus;
          category: string | null;
          limit: number;
        };

    interface ModelEntry {
      id: string;
      seq: number;
      read: boolean;
      seen: boolean;
      archived: boolean;
      n: number;
      createdAt: string;
      category?: string;
      expiresAt?: number;
      collapseKey?: string;
      collapsedCount?: number;
      replaces?: string;
    }

    interface ModelUser {
      /** Retained notifications, oldest first. */
      entries: ModelEntry[];
      /** Every id ever stored for the user, oldest first (its sequence is its index + 1). */
      issued: string[];
      trimmed: string[];
      removed: string[];
      /** The highest sequence trimmed (by the history limit). */
      trimmedUpTo: number;
      /** Dedupe keys the store remembers, oldest first. */
      dedupe: { seq: number; key: string; id: string }[];
      /** Every dedupe key ever stored. */
      storedKeys: Set<string>;
      /** Collapse key → the sequence of the newest notification stored with it, while retained. */
      collapseHeads: Map<string, number>;
      epoch: string | undefined;
    }

    interface Frame {
      event: string;
      data: Record<string, unknown>;
    }

    /** How often the interesting cases came up, to prove the runs exercised them. */
    const coverage = {
      trims: 0,
      dedupeHits: 0,
      dedupeHitOfRemoved: 0,
      trimmedKeyStoredAgain: 0,
      collapsed: 0,
      collapseRefused: 0,
      expired: 0,
      swept: 0,
      categorized: 0,
      markChanged: 0,
      markNoop: 0,
      markAllByCategory: 0,
      archiveAllRead: 0,
      unarchived: 0,
      archivedMarkedUnread: 0,
      replayTruncated: 0,
      replayResumed: 0,
      pagedFiltered: 0,
    };
    const markedKinds = new Set<string>();

    const user = fc.nat({ max: USERS.length - 1 });
    // Archiving more often than the rest, so that unarchiving finds something.
    const markAs = fc.oneof(
      { weight: 1, arbitrary: fc.constantFrom(...MARK_AS) },
      { weight: 1, arbitrary: fc.constant('archived' as const) },
    );
    const category = fc.oneof(
      { weight: 2, arbitrary: fc.constant(null) },
      { weight: 3, arbitrary: fc.constantFrom(...CATEGORIES) },
    );
    const pick: fc.Arbitrary<IdPick> = fc.oneof(
      { weight: 6, arbitrary: fc.record({ from: fc.constant('own' as const), index: fc.nat() }) },
      {
        weight: 1,
        arbitrary: fc.record({ from: fc.constant('other' as const), user, index: fc.nat() }),
      },
      {
        weight: 1,
        arbitrary: fc.record({ from: fc.constant('trimmed' as const), index: fc.nat() }),
      },
      {
        weight: 1,
        arbitrary: fc.record({ from: fc.constant('removed' as const), index: fc.nat() }),
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
    const appendPlan: fc.Arbitrary<AppendPlan> = fc.record({
      user,
      // Mostly fresh keys, so histories overflow and trim; else one of a few shared keys.
      dedupeKey: fc.oneof(
        { weight: 3, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.constantFrom('k1', 'k2', 'k3') },
      ),
      category,
      collapseKey: fc.oneof(
        { weight: 3, arbitrary: fc.constant(null) },
        { weight: 2, arbitrary: fc.constantFrom('c1', 'c2') },
      ),
      expiresIn: fc.oneof(
        { weight: 3, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 5000 }) },
      ),
    });
    const operation: fc.Arbitrary<Operation> = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({
          kind: fc.constant('append' as const),
          requests: fc.array(appendPlan, { minLength: 1, maxLength: 3 }),
        }),
      },
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant('mark' as const),
          user,
          as: markAs,
          picks: fc.array(pick, { maxLength: 4 }),
          twice: fc.boolean(),
        }),
      },
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant('markAll' as const),
          user,
          as: fc.constantFrom(...MARK_AS),
          category,
          onlyRead: fc.boolean(),
        }),
      },
      {
        // Several marks of one notification in a row: every transition between states.
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('markSequence' as const),
          user,
          index: fc.nat(),
          sequence: fc.array(fc.constantFrom(...MARK_AS), { minLength: 2, maxLength: 5 }),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('markRead' as const),
          user,
          picks: fc.array(pick, { maxLength: 4 }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('markAllRead' as const), user }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('replay' as const), user, since }) },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('advance' as const),
          ms: fc.integer({ min: 0, max: 4000 }),
          sweep: fc.boolean(),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('page' as const),
          user,
          status: fc.constantFrom(...INBOX_STATUSES),
          category,
          limit: fc.integer({ min: 1, max: 3 }),
        }),
      },
    );

    const countsOf = (model: ModelUser): NotificationCounts => {
      const counts: NotificationCounts = { unread: 0, unseen: 0, categories: {} };
      for (const entry of model.entries) {
        if (entry.archived) continue;
        const unread = entry.read ? 0 : 1;
        const unseen = entry.seen ? 0 : 1;
        counts.unread += unread;
        counts.unseen += unseen;
        if (entry.category !== undefined && unread + unseen > 0) {
          const own = (counts.categories[entry.category] ??= { unread: 0, unseen: 0 });
          own.unread += unread;
          own.unseen += unseen;
        }
      }
      return counts;
    };

    const unreadOf = (model: ModelUser): number => countsOf(model).unread;

    function matches(entry: ModelEntry, status: InboxStatus, only: string | null): boolean {
      if (only !== null && entry.category !== only) return false;
      switch (status) {
        case 'inbox':
          return !entry.archived;
        case 'unread':
          return !entry.archived && !entry.read;
        case 'unseen':
          return !entry.archived && !entry.seen;
        case 'read':
          return !entry.archived && entry.read;
        case 'archived':
          return entry.archived;
        case 'all':
          return true;
      }
    }

    /** What a client sees of a model entry. */
    function visible(entry: ModelEntry): Notification {
      return {
        createdAt: entry.createdAt,
        id: entry.id,
        type: 'spec.item',
        ...(entry.category === undefined ? {} : { category: entry.category }),
        ...(entry.expiresAt === undefined
          ? {}
          : { expiresAt: new Date(entry.expiresAt).toISOString() }),
        ...(entry.collapsedCount === undefined
          ? {}
          : { collapsedCount: entry.collapsedCount, replaces: entry.replaces }),
        ...(entry.collapseKey === undefined ? {} : { collapseKey: entry.collapseKey }),
        payload: { n: entry.n },
        read: entry.read,
        seen: entry.seen,
        archived: entry.archived,
      };
    }

    function listed(model: ModelUser, status: InboxStatus, only: string | null) {
      return model.entries
        .filter((e) => matches(e, status, only))
        .reverse()
        .map(visible);
    }

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
        case 'removed':
          return at(model.removed, choice.index);
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

    /** Takes an entry out of the model as the store's removeSeq does. */
    function removeEntry(model: ModelUser, entry: ModelEntry): void {
      model.entries.splice(model.entries.indexOf(entry), 1);
      model.removed.push(entry.id);
      if (
        entry.collapseKey !== undefined &&
        model.collapseHeads.get(entry.collapseKey) === entry.seq
      ) {
        model.collapseHeads.delete(entry.collapseKey);
      }
    }

    function nextState(
      as: MarkAs,
      entry: ModelEntry,
    ): Pick<ModelEntry, 'read' | 'seen' | 'archived'> {
      const { read, seen, archived } = entry;
      switch (as) {
        case 'read':
          return { read: true, seen: true, archived };
        case 'unread':
          return { read: false, seen, archived };
        case 'seen':
          return { read, seen: true, archived };
        case 'archived':
          return { read: true, seen: true, archived: true };
        case 'unarchived':
          return { read, seen, archived: false };
      }
    }

    /** Applies a mark to the entries it selects; returns the ids that changed, in that order. */
    function applyMark(as: MarkAs, entries: ModelEntry[]): string[] {
      const changed: string[] = [];
      for (const entry of entries) {
        const to = nextState(as, entry);
        if (to.read === entry.read && to.seen === entry.seen && to.archived === entry.archived) {
          continue;
        }
        if (as === 'unread' && entry.archived) coverage.archivedMarkedUnread++;
        if (as === 'unarchived') coverage.unarchived++;
        Object.assign(entry, to);
        changed.push(entry.id);
      }
      return changed;
    }

    /** The frames a mark publishes when it changed anything. */
    function markFrames(
      model: ModelUser,
      unreadBefore: number,
      changed: string[],
      what: Record<string, unknown>,
    ): Frame[] {
      if (changed.length === 0) return [];
      const counts = countsOf(model);
      const frames: Frame[] = [{ event: 'marked', data: { ...what, counts } }];
      if (counts.unread !== unreadBefore) {
        frames.push({ event: 'unread', data: { unread: counts.unread } });
      }
      return frames;
    }

    /** Expires what is due by `now` in every model, with the frames each user's channel gets. */
    function expireModels(models: ModelUser[], now: number): Map<number, Frame[]> {
      const frames = new Map<number, Frame[]>();
      models.forEach((model, index) => {
        const due = model.entries.filter((e) => e.expiresAt !== undefined && e.expiresAt <= now);
        if (due.length === 0) return;
        const unreadBefore = unreadOf(model);
        for (const entry of due) removeEntry(model, entry);
        coverage.expired += due.length;
        const counts = countsOf(model);
        const own: Frame[] = [
          {
            event: 'removed',
            data: { ids: due.map((e) => e.id).sort(byCodeUnits), reason: 'expired', counts },
          },
        ];
        if (counts.unread !== unreadBefore) {
          own.push({ event: 'unread', data: { unread: counts.unread } });
        }
        frames.set(index, own);
      });
      return frames;
    }

    /** Frames as the store published them, per user, in order; checks the channel's versions. */
    class ChannelLog {
      private readonly frames = USERS.map((): Frame[] => []);
      private readonly versions = USERS.map(() => 0);
      private readonly checked = USERS.map(() => 0);
      private subscriber: Redis | undefined;

      async start(prefix: string): Promise<void> {
        const keys = new RedisKeys(prefix);
        this.subscriber = redis.duplicate();
        this.subscriber.on('message', (channel: string, raw: string) => {
          const userId = keys.userOfChannel(channel) ?? '';
          const index = USERS.indexOf(userId);
          // Read as the broker reads it (channel-message.ts).
          const message = decodeChannelMessage(userId, raw);
          const version = message?.version;
          const id = message?.id ?? '-';
          let frame: Frame;
          try {
            frame = JSON.parse(message?.frame ?? '') as Frame;
          } catch {
            frame = { event: 'not JSON', data: { raw } };
          }
          // Every message of a user's channel is numbered, one after the other, and says whose
          // notification it carries. A wrong header shows up in the comparison of the frames.
          if (version !== ++this.versions[index]) {
            frame = { event: 'version gap', data: { version, frame } };
          }
          const carries =
            frame.event === 'notification' ? (frame.data.notification as { id: string }).id : '-';
          if (id !== carries) frame = { event: 'wrong id in header', data: { id, frame } };
          if (frame.event === 'removed' && Array.isArray(frame.data.ids)) {
            (frame.data.ids as string[]).sort(byCodeUnits);
          }
          this.frames[index].push(frame);
        });
        await this.subscriber.subscribe(...USERS.map((u) => keys.forUser(u).channel));
      }

      /** Waits for the frames expected since the last check, and compares them. */
      async expectNext(index: number, expected: Frame[]): Promise<void> {
        const want = this.checked[index] + expected.length;
        // Date is faked in this test: the wait (up to 2 s) counts its steps instead.
        for (let waits = 0; this.frames[index].length < want && waits < 1000; waits++) {
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        expect(this.frames[index].slice(this.checked[index])).toEqual(expected);
        this.checked[index] = this.frames[index].length;
      }

      async stop(): Promise<void> {
        await this.subscriber?.quit();
      }
    }

    interface Observed {
      page: InboxPage;
      counts: NotificationCounts;
    }

    async function observe(sut: RedisNotificationStore, userId: string): Promise<Observed> {
      const page = await sut.list(userId, { limit: 100, status: 'all' });
      const counts = await sut.counts(userId);
      return { page, counts };
    }

    /** What must hold of any history, model or not: the counts are what the items say. */
    function checkInvariants(observed: Observed): void {
      const { page, counts } = observed;
      const inbox = page.items.filter((item) => !item.archived);
      const derived: NotificationCounts = { unread: 0, unseen: 0, categories: {} };
      for (const item of inbox) {
        derived.unread += item.read ? 0 : 1;
        derived.unseen += item.seen ? 0 : 1;
        if (item.category !== undefined && !(item.read && item.seen)) {
          const own = (derived.categories[item.category] ??= { unread: 0, unseen: 0 });
          own.unread += item.read ? 0 : 1;
          own.unseen += item.seen ? 0 : 1;
        }
      }
      expect(counts).toEqual(derived);
      expect(page.counts).toEqual(counts);
      expect(page.unread).toBe(counts.unread);
      for (const value of [counts, ...Object.values(counts.categories)]) {
        expect(value.unread).toBeGreaterThanOrEqual(0);
        expect(value.unseen).toBeGreaterThanOrEqual(0);
      }
      expect(page.items.length).toBeLessThanOrEqual(HISTORY_LIMIT);
      expect(page.nextCursor).toBeNull();
      const parsed = page.items.map((item) => parseNotificationId(item.id));
      for (let i = 1; i < parsed.length; i++) {
        expect(parsed[i]?.epoch).toBe(parsed[0]?.epoch);
        expect(parsed[i]!.seq).toBeLessThan(parsed[i - 1]!.seq);
      }
    }

    async function checkListings(
      sut: RedisNotificationStore,
      model: ModelUser,
      userId: string,
    ): Promise<void> {
      for (const only of [null, ...CATEGORIES]) {
        for (const status of INBOX_STATUSES) {
          const page = await sut.list(userId, {
            limit: 100,
            status,
            ...(only === null ? {} : { category: only }),
          });
          expect({ status, only, items: page.items }).toEqual({
            status,
            only,
            items: listed(model, status, only),
          });
        }
      }
    }

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
          { numRuns: Number(process.env.MODEL_RUNS ?? 60) },
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
          counts: { unread: 3, unseen: 3, categories: {} },
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

  describe('states', () => {
    it('keeps seen apart from read: seen leaves unread alone, read marks seen too', async () => {
      const { sut } = createSut({ historyLimit: 10 });
      const [a, b, c] = await appendMany(sut, 'alice', 3);

      expect(await sut.mark('alice', { as: 'seen', ids: [a] })).toMatchObject({
        ids: [a],
        counts: { unread: 3, unseen: 2 },
      });
      expect(await sut.mark('alice', { as: 'read', ids: [b] })).toMatchObject({
        ids: [b],
        counts: { unread: 2, unseen: 1 },
      });
      expect(await sut.mark('alice', { as: 'unread', ids: [b] })).toMatchObject({
        ids: [b],
        counts: { unread: 3, unseen: 1 },
      });
      const page = await sut.list('alice', { limit: 10 });
      expect(
        page.items.map(({ id, read, seen, archived }) => ({ id, read, seen, archived })),
      ).toEqual([
        { id: c, read: false, seen: false, archived: false },
        { id: b, read: false, seen: true, archived: false },
        { id: a, read: false, seen: true, archived: false },
      ]);
    });

    it('archives as read and seen, leaves the counts and the inbox, and unarchives as it was', async () => {
      const { sut } = createSut({ historyLimit: 10 });
      const [a, b] = await appendMany(sut, 'alice', 2);

      expect(await sut.mark('alice', { as: 'archived', ids: [a] })).toMatchObject({
        counts: { unread: 1, unseen: 1 },
      });
      expect(idsOf(await sut.list('alice', { limit: 10 }))).toEqual([b]);
      const archived = await sut.list('alice', { limit: 10, status: 'archived' });
      expect(archived.items).toMatchObject([{ id: a, read: true, seen: true, archived: true }]);
      // Marked unread while archived: it counts again once it is back in the inbox.
      await sut.mark('alice', { as: 'unread', ids: [a] });
      expect(await sut.counts('alice')).toMatchObject({ unread: 1, unseen: 1 });
      expect(await sut.mark('alice', { as: 'unarchived', ids: [a] })).toMatchObject({
        ids: [a],
        counts: { unread: 2, unseen: 1 },
      });
      expect((await sut.list('alice', { limit: 10 })).items).toMatchObject([
        { id: b, read: false, seen: false, archived: false },
        { id: a, read: false, seen: true, archived: false },
      ]);
    });

    it('archives all read ones only, and marks all of one category', async () => {
      const { sut } = createSut({ historyLimit: 10 });
      const [a, b, c] = await sut.append([
        { ...request('alice', 'a'), category: 'billing' },
        { ...request('alice', 'b'), category: 'social' },
        { ...request('alice', 'c'), category: 'social' },
      ]);
      await sut.mark('alice', { as: 'read', ids: [a.id, b.id] });

      const archived = await sut.mark('alice', { as: 'archived', all: true, onlyRead: true });
      expect([...archived.ids].sort()).toEqual([a.id, b.id].sort());
      expect(archived.counts).toEqual({
        unread: 1,
        unseen: 1,
        categories: { social: { unread: 1, unseen: 1 } },
      });
      expect(idsOf(await sut.list('alice', { limit: 10 }))).toEqual([c.id]);

      await appendOne(sut, 'alice', 'd');
      const seen = await sut.mark('alice', { as: 'seen', all: true, category: 'social' });
      expect(seen.ids).toEqual([c.id]);
      expect(seen.counts).toEqual({
        unread: 2,
        unseen: 1,
        categories: { social: { unread: 1, unseen: 0 } },
      });
    });

    it("changes nothing and publishes nothing for another user's, unknown or garbage ids", async () => {
      const { sut, keys } = createSut({ historyLimit: 10 });
      const bobIds = await appendMany(sut, 'bob', 2);
      const [own] = await appendMany(sut, 'alice', 1);
      const subscriber = redis.duplicate();
      const messages: string[] = [];
      subscriber.on('message', (_channel: string, message: string) => messages.push(message));
      await subscriber.subscribe(keys.forUser('alice').channel, keys.forUser('bob').channel);
      try {
        for (const as of MARK_AS) {
          const result = await sut.mark('alice', {
            as,
            ids: [...bobIds, `${epochOf(own)}-99`, `${epochOf(own)}-0`, 'x', '', `${own}0`],
          });
          expect(result).toMatchObject({ ids: [], changed: 0, counts: { unread: 1, unseen: 1 } });
        }
        await sut.counts('alice'); // one more round trip: anything published would be here by now
        expect(messages).toEqual([]);
        expect(await sut.counts('bob')).toMatchObject({ unread: 2, unseen: 2 });
      } finally {
        await subscriber.quit();
      }
    });
  });

  describe('collapse', () => {
    it('replaces a burst with one notification that counts them, without growing the counts', async () => {
      const { sut } = createSut({ historyLimit: 10 });
      const [before] = await appendMany(sut, 'alice', 1);
      const burst: AppendResult[] = [];
      for (let n = 0; n < 5; n++) {
        const [result] = await sut.append([
          { ...request('alice', `c-${n}`, n), collapseKey: 'post:1', category: 'social' },
        ]);
        burst.push(result);
      }

      expect(burst.map((r) => r.replaced)).toEqual([
        undefined,
        ...burst.slice(0, 4).map((r) => r.id),
      ]);
      const page = await sut.list('alice', { limit: 10 });
      expect(
        page.items.map(({ id, collapsedCount, replaces, collapseKey }) => ({
          id,
          collapsedCount,
          replaces,
          collapseKey,
        })),
      ).toEqual([
        { id: burst[4].id, collapsedCount: 5, replaces: burst[3].id, collapseKey: 'post:1' },
        { id: before, collapsedCount: undefined, replaces: undefined, collapseKey: undefined },
      ]);
      expect(page.counts).toEqual({
        unread: 2,
        unseen: 2,
        categories: { social: { unread: 1, unseen: 1 } },
      });
      // Resuming from before the burst replays the newest one only, and nothing was lost.
      const resumed = await sut.replay('alice', before);
      expect(resumed.truncated).toBe(false);
      expect(parseFrames(resumed.frames).map((f) => f.data.notification.id)).toEqual([burst[4].id]);
      // A retried job of a replaced one stores nothing.
      expect(
        await sut.append([{ ...request('alice', 'c-0'), collapseKey: 'post:1' }]),
      ).toMatchObject([{ stored: false, id: burst[0].id }]);
    });

    it('keeps a seen one seen when it replaces it: neither count grows', async () => {
      const { sut } = createSut({ historyLimit: 10 });
      const first = { ...request('alice', 'a'), collapseKey: 'k', category: 'social' };
      const [old] = await sut.append([first]);
      await sut.mark('alice', { as: 'seen', all: true });
      const before = await sut.counts('alice');

      const [replacing] = await sut.append([{ ...first, dedupeKey: 'b' }]);

      expect(replacing.replaced).toBe(old.id);
      expect(await sut.counts('alice')).toEqual(before);
      expect(before).toEqual({
        unread: 1,
        unseen: 0,
        categories: { social: { unread: 1, unseen: 0 } },
      });
      expect((await sut.list('alice', { limit: 10 })).items).toMatchObject([
        { id: replacing.id, read: false, seen: true, collapsedCount: 2, replaces: old.id },
      ]);
    });

    it('does not replace a read or archived one', async () => {
      const { sut } = createSut({ historyLimit: 10 });
      const [first] = await sut.append([{ ...request('alice', 'a'), collapseKey: 'k' }]);
      await sut.mark('alice', { as: 'read', ids: [first.id] });
      const [second] = await sut.append([{ ...request('alice', 'b'), collapseKey: 'k' }]);
      await sut.mark('alice', { as: 'archived', ids: [second.id] });
      const [third] = await sut.append([{ ...request('alice', 'c'), collapseKey: 'k' }]);

      expect([first.replaced, second.replaced, third.replaced]).toEqual([
        undefined,
        undefined,
        undefined,
      ]);
      expect(idsOf(await sut.list('alice', { limit: 10, status: 'all' }))).toEqual([
        third.id,
        second.id,
        first.id,
      ]);
      // Still unread: the next one replaces it.
      const [fourth] = await sut.append([{ ...request('alice', 'd'), collapseKey: 'k' }]);
      expect(fourth.replaced).toBe(third.id);
      expect(await sut.counts('alice')).toMatchObject({ unread: 1, unseen: 1 });
    });
  });

  describe('expiry', () => {
    it('removes an expired one from listings, replays and counts, for the sweeper or the next read', async () => {
      const { sut, keys } = createSut({ historyLimit: 10 });
      const subscriber = redis.duplicate();
      const frames: ReplayFrame[] = [];
      subscriber.on('message', (_channel: string, message: string) =>
        frames.push(JSON.parse(decodeChannelMessage('alice', message)!.frame) as ReplayFrame),
      );
      await subscriber.subscribe(keys.forUser('alice').channel);
      try {
        const [keep] = await appendMany(sut, 'alice', 1);
        const soon = new Date(Date.now() + 300).toISOString();
        const [gone] = await sut.append([
          { ...request('alice', 'x'), category: 'billing', expiresAt: soon },
        ]);
        expect((await sut.list('alice', { limit: 10 })).items[0]).toMatchObject({
          id: gone.id,
          expiresAt: soon,
        });
        expect(await sut.sweepExpired()).toEqual({ removed: 0, more: false });

        await vi.waitFor(
          async () => {
            expect(await sut.sweepExpired()).toEqual({ removed: 1, more: false });
          },
          { timeout: 5000, interval: 50 },
        );

        expect(await redis.zcard(keys.expiringIndexes[0])).toBe(0);
        expect(idsOf(await sut.list('alice', { limit: 10, status: 'all' }))).toEqual([keep]);
        expect(await sut.counts('alice')).toEqual({ unread: 1, unseen: 1, categories: {} });
        const resumed = await sut.replay('alice', keep);
        expect(resumed).toMatchObject({ truncated: false, frames: [] });
        await vi.waitFor(() => expect(frames.map((f) => f.event)).toContain('unread'));
        expect(frames.slice(-2)).toEqual([
          {
            event: 'removed',
            data: {
              ids: [gone.id],
              reason: 'expired',
              counts: { unread: 1, unseen: 1, categories: {} },
            },
          },
          { event: 'unread', data: { unread: 1 } },
        ]);
      } finally {
        await subscriber.quit();
      }
    });

    it('keeps a user due when an append set an earlier expiry while a sweep ran', async () => {
      const { keys } = createSut({ historyLimit: 10 });
      const read = 1_000_000;
      await redis.zadd(keys.expiringIndexes[0], read, 'alice', read, 'bob');
      // A sweep read `read` for both; then an append moved alice earlier (as append does: LT).
      await redis.zadd(keys.expiringIndexes[0], 'LT', read - 500, 'alice');

      // The sweep found their next expiries at 2,000,000 (alice) and none (bob).
      expect(
        await redis.notifReschedule(keys.expiringIndexes[0], 'alice', String(read), 2_000_000),
      ).toBe(0);
      expect(await redis.notifReschedule(keys.expiringIndexes[0], 'bob', String(read), -1)).toBe(1);

      expect(await redis.zrange(keys.expiringIndexes[0], 0, -1, 'WITHSCORES')).toEqual([
        'alice',
        String(read - 500),
      ]);
    });
  });

  describe('list filters', () => {
    it('pages a filtered listing without overlap or gap while notifications arrive and states change', async () => {
      const { sut } = createSut({ historyLimit: 50 });
      const ids = await appendMany(sut, 'alice', 12);
      // Odd ones read: the unread listing holds the even ones, newest first.
      await sut.mark('alice', { as: 'read', ids: ids.filter((_, i) => i % 2 === 1) });

      const first = await sut.list('alice', { limit: 2, status: 'unread' });
      expect(idsOf(first)).toEqual([ids[10], ids[8]]);
      // Between pages: news on top, the first page's items read, a later page's item archived.
      await appendMany(sut, 'alice', 2);
      await sut.mark('alice', { as: 'read', ids: [ids[10], ids[8]] });
      await sut.mark('alice', { as: 'archived', ids: [ids[4]] });
      const rest: string[] = [];
      let before = first.nextCursor ?? undefined;
      while (before !== undefined) {
        const page = await sut.list('alice', { limit: 2, status: 'unread', before });
        rest.push(...idsOf(page));
        before = page.nextCursor ?? undefined;
      }

      expect(rest).toEqual([ids[6], ids[2], ids[0]]);
    });

    it('answers an unknown category or a history without categories with an empty page', async () => {
      const { sut } = createSut({ historyLimit: 10 });
      await appendMany(sut, 'alice', 2);

      expect(await sut.list('alice', { limit: 10, category: 'billing' })).toMatchObject({
        items: [],
        nextCursor: null,
        counts: { unread: 2 },
      });
    });
  });

  describe('histories written before protocol 1.1', () => {
    it('tells a resume it was truncated by the oldest retained one, as v1 did', async () => {
      const { sut, keys } = createSut({ historyLimit: 3 });
      const ids = await appendMany(sut, 'alice', 5); // 3, 4 and 5 are retained
      // What v1 wrote: no trim mark, no unseen set.
      await redis.hdel(keys.forUser('alice').meta, 't');
      await redis.del(keys.forUser('alice').unseen);

      expect(await sut.replay('alice', ids[0])).toMatchObject({ truncated: true });
      expect(await sut.replay('alice', ids[1])).toMatchObject({ truncated: false });
      expect((await sut.list('alice', { limit: 10 })).items).toMatchObject(
        [
          { read: false, seen: true },
          { read: false, seen: true },
          { read: false, seen: true },
        ].map((state, i) => ({ ...state, id: ids[4 - i] })),
      );
    });
  });
});
