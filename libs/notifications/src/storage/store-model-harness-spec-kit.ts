import fc from 'fast-check';
import type { Redis } from 'ioredis';
import {
  INBOX_STATUSES,
  MARK_AS,
  parseNotificationId,
  type InboxPage,
  type NotificationCounts,
} from '@rtnotify/protocol';
import { decodeChannelMessage } from './channel-message.js';
import { RedisKeys } from './redis-keys.js';
import type { RedisNotificationStore } from './redis-notification.store.js';
import {
  CATEGORIES,
  HISTORY_LIMIT,
  USERS,
  listed,
  type AppendPlan,
  type Frame,
  type IdPick,
  type ModelUser,
  type Operation,
  type SinceChoice,
} from './store-model-spec-kit.js';
import { byCodeUnits, redis } from './store-spec-kit.js';

/*
 * How the model-based spec (redis-notification.store.model.spec.ts) drives and watches the store:
 * the operations it generates, the frames it reads from each user's channel, and what it checks of
 * any history.
 */

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
export const operation: fc.Arbitrary<Operation> = fc.oneof(
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

/** Frames as the store published them, per user, in order; checks the channel's versions. */
export class ChannelLog {
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

export interface Observed {
  page: InboxPage;
  counts: NotificationCounts;
}

export async function observe(sut: RedisNotificationStore, userId: string): Promise<Observed> {
  const page = await sut.list(userId, { limit: 100, status: 'all' });
  const counts = await sut.counts(userId);
  return { page, counts };
}

/** What must hold of any history, model or not: the counts are what the items say. */
export function checkInvariants(observed: Observed): void {
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

export async function checkListings(
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
