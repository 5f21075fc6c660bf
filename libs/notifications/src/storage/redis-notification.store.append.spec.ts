import type { AppendRequest, AppendResult } from './notification.store.js';
import {
  APPEND_CALL_MAX,
  APPEND_PIPELINE_MAX,
  RedisNotificationStore,
} from './redis-notification.store.js';
import { dedupeKeysOf } from './dedupe-index-spec-kit.js';
import { APPEND_BODY_REQUIRED_FIELDS } from './lua-scripts.js';
import { LegacyStore } from './legacy/layout-0.2.js';
import {
  appendOne,
  createSut,
  epochOf,
  idsOf,
  parseFrames,
  redis,
  request,
  seqOf,
  useRedis,
} from './store-spec-kit.js';

/*
 * Appending: dedupe keys, and trimming the history by age (the trim by count is in the model-based
 * spec).
 */

useRedis();

describe(RedisNotificationStore.name, () => {
  describe('dedupe', () => {
    it('keeps at most historyLimit keys and forgets those of trimmed notifications', async () => {
      const limit = 5;
      const { sut, keyPrefix } = createSut({ historyLimit: limit });
      const results: AppendResult[] = [];
      for (let batch = 0; batch < 3; batch++) {
        const requests = Array.from({ length: limit }, (_, i) =>
          request('alice', `key-${batch * limit + i}`),
        );
        results.push(...(await sut.append(requests)));
      }
      expect(results.every((r) => r.stored)).toBe(true);

      const keysHeld = await dedupeKeysOf(redis, keyPrefix, 'alice');
      expect(keysHeld.length).toBeLessThanOrEqual(limit);
      expect(keysHeld).toEqual(['key-10', 'key-11', 'key-12', 'key-13', 'key-14'].sort());

      const again = await appendOne(sut, 'alice', 'key-0');
      expect(again.stored).toBe(true);
      expect(seqOf(again.id)).toBe(16);
      expect(await appendOne(sut, 'alice', 'key-14')).toMatchObject({
        stored: false,
        id: results[14].id,
      });
      expect((await dedupeKeysOf(redis, keyPrefix, 'alice')).length).toBeLessThanOrEqual(limit);
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

    it('writes nothing for a duplicate: no sequence number, count or message', async () => {
      const { sut, keys } = createSut({ historyLimit: 5 });
      const meta = keys.forUser('alice').meta;
      const first = await appendOne(sut, 'alice', 'once');
      const before = await redis.hgetall(meta);

      const again = await appendOne(sut, 'alice', 'once');

      expect(again).toMatchObject({ stored: false, id: first.id, unread: 1 });
      expect(await redis.hgetall(meta)).toEqual(before);
      expect(seqOf((await appendOne(sut, 'alice', 'next')).id)).toBe(seqOf(first.id) + 1);
    });

    it("stores a new history's first notification under a key left from an earlier history", async () => {
      const { sut, keys } = createSut({ historyLimit: 5 });
      const first = await appendOne(sut, 'alice', 'kept');
      // Everything but the dedupe index gone (by hand: the keys share one TTL).
      const alice = keys.forUser('alice');
      await redis.del(...alice.all.filter((key) => key !== alice.dedupe));

      const again = await appendOne(sut, 'alice', 'kept');

      expect(again).toMatchObject({ stored: true, unread: 1 });
      expect(epochOf(again.id)).not.toBe(epochOf(first.id));
      expect(seqOf(again.id)).toBe(1);
      expect(await appendOne(sut, 'alice', 'kept')).toMatchObject({ stored: false, id: again.id });
    });
  });

  describe("appendGroups (the worker's group commit)", () => {
    it('stores every group in one round trip, in order, each with the results append gives', async () => {
      const { sut } = createSut({ historyLimit: 5 });
      // The four requests fit one script call: one command, sent by itself (no pipeline).
      const commands = vi.spyOn(redis, 'sendCommand');
      try {
        const [a, b, empty] = await sut.appendGroups([
          [request('alice', 'a1'), request('bob', 'b1')],
          [request('alice', 'a2'), request('alice', 'a1')],
          [],
        ]);
        expect(commands).toHaveBeenCalledTimes(1);
        expect(a).toEqual([
          expect.objectContaining({ userId: 'alice', stored: true, unread: 1 }),
          expect.objectContaining({ userId: 'bob', stored: true, unread: 1 }),
        ]);
        // The second group comes after the first: a2 is alice's second, a1 a duplicate of the first.
        expect(b).toEqual([
          expect.objectContaining({ userId: 'alice', stored: true, unread: 2 }),
          { userId: 'alice', id: (a as AppendResult[])[0].id, stored: false, unread: 2 },
        ]);
        expect(seqOf((b as AppendResult[])[0].id)).toBe(2);
        expect(empty).toEqual([]);
      } finally {
        commands.mockRestore();
      }
    });

    it('sends more than APPEND_PIPELINE_MAX users in parts, each on its way before the next is built', async () => {
      const { sut } = createSut({ historyLimit: 5 });
      const events: string[] = [];
      const pipeline = redis.pipeline.bind(redis);
      const pipelines = vi.spyOn(redis, 'pipeline').mockImplementation((...args) => {
        const created = pipeline(...args);
        const exec = created.exec.bind(created);
        created.exec = (...execArgs) => {
          events.push(`exec ${created.length}`);
          return exec(...execArgs);
        };
        events.push('create');
        return created;
      });
      try {
        const users = (from: number, count: number) =>
          Array.from({ length: count }, (_, i) => request(`fan-${from + i}`, 'k'));
        // The second group spans the second and third parts; its last request is a duplicate.
        const [first, second] = await sut.appendGroups([
          users(0, 1500),
          [...users(1500, 999), request('fan-0', 'k')],
        ]);

        // Each part holds its users' appends in calls of APPEND_CALL_MAX users.
        expect([APPEND_PIPELINE_MAX, APPEND_CALL_MAX]).toEqual([1000, 100]);
        expect(events).toEqual(['create', 'exec 10', 'create', 'exec 10', 'create', 'exec 5']);
        expect((first as AppendResult[]).map((r) => [r.userId, r.stored])).toEqual(
          users(0, 1500).map((r) => [r.userId, true]),
        );
        const results = second as AppendResult[];
        expect(
          results.slice(0, 999).every((r, i) => r.userId === `fan-${1500 + i}` && r.stored),
        ).toBe(true);
        expect(results[999]).toEqual({
          userId: 'fan-0',
          id: (first as AppendResult[])[0].id,
          stored: false,
          unread: 1,
        });
      } finally {
        pipelines.mockRestore();
      }
    });

    it("sends a fan-out's notification once per call, and of each user only its base", async () => {
      const { sut, keys } = createSut({ historyLimit: 5 });
      const payloadJson = JSON.stringify({ text: 'the same for everyone' });
      const calls: unknown[][] = [];
      const pipeline = redis.pipeline.bind(redis);
      const pipelines = vi.spyOn(redis, 'pipeline').mockImplementation((...args) => {
        const created = pipeline(...args);
        const append = created.notifAppendMany.bind(created);
        created.notifAppendMany = (...callArgs) => {
          calls.push(callArgs);
          return append(...callArgs);
        };
        return created;
      });
      try {
        const fanOut = Array.from({ length: 250 }, (_, i) => ({
          ...request(`fan-${i}`, 'k'),
          payloadJson,
        }));
        const [results] = await sut.appendGroups([fanOut]);

        expect((results as AppendResult[]).every((r) => r.stored)).toBe(true);
        expect(calls.map((args) => args.filter((arg) => arg === payloadJson).length)).toEqual([
          1, 1, 1,
        ]);
        // The dedupe key is the notification's, sent with it.
        expect(calls.map((args) => args.filter((arg) => arg === 'k').length)).toEqual([1, 1, 1]);
        // Calls of 100 and of 50 users differ by 50 users' bases, and nothing else: the script
        // makes each user's keys and channel from its base.
        expect(calls.map((args) => args.length - calls[2].length)).toEqual([50, 50, 0]);
        expect(calls[2].slice(-50)).toEqual(
          fanOut.slice(200).map((r) => keys.forUser(r.userId).history.slice(0, -1)),
        );
        // The last call: no keys (their number, 0), the call's seven fields, the body's three counts
        // and its fields (the optional ones are all empty, so none is sent), the bases.
        expect(calls[2][0]).toBe(0);
        expect(calls[2].length).toBe(1 + 7 + 3 + APPEND_BODY_REQUIRED_FIELDS + 50);
        expect((await sut.list('fan-249', { limit: 5 })).items).toEqual([
          expect.objectContaining({ payload: { text: 'the same for everyone' } }),
        ]);
      } finally {
        pipelines.mockRestore();
      }
    });

    it("makes from each user's base the keys and channel RedisKeys names, whatever the user id", async () => {
      const { sut, keys } = createSut({ historyLimit: 5 });
      const userIds = ['}{x', 'it\'s "quoted"\n', '🎉 ü', 'x:l', 'ends with }:'];
      const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
      const subscriber = redis.duplicate();
      const channels: string[] = [];
      subscriber.on('message', (channel: string) => channels.push(channel));
      try {
        await subscriber.subscribe(...userIds.map((userId) => keys.forUser(userId).channel));
        const results = await sut.append(
          userIds.map((userId) => ({ ...request(userId, 'k'), category: 'c', expiresAt })),
        );

        expect(results.map((r) => r.stored)).toEqual(userIds.map(() => true));
        for (const userId of userIds) {
          const userKeys = keys.forUser(userId);
          expect(await redis.llen(userKeys.history)).toBe(1);
          expect(await redis.zcard(userKeys.dedupe)).toBe(1);
          expect(await redis.hget(userKeys.categoryCounts, 'u:c')).toBe('1');
          expect(await redis.zcard(userKeys.expiry)).toBe(1);
        }
        await vi.waitFor(() => expect(channels).toHaveLength(userIds.length));
        expect(channels).toEqual(userIds.map((userId) => keys.forUser(userId).channel));
      } finally {
        subscriber.disconnect();
      }
    });

    it('makes the extra keys only for the notifications that need them, each user reading its own', async () => {
      const { sut, keys } = createSut({ historyLimit: 5 });
      await redis.hset(keys.forUser('bob').preferences, 'i:muted', '0');
      await redis.hset(keys.forUser('dan').preferences, 'i:muted', '0');
      const commands = vi.spyOn(redis, 'sendCommand');
      try {
        const muted = (userId: string) => ({ ...request(userId, 'm'), category: 'muted' });
        const [alice, bob, carol, dan, erin] = await sut.append([
          request('alice', 'a'),
          muted('bob'),
          { ...request('carol', 'c'), fallbackDelayMs: 60_000 },
          muted('dan'),
          request('erin', 'e'),
        ]);

        expect(alice).toMatchObject({ stored: true });
        expect(bob).toMatchObject({ stored: false, suppressed: true });
        expect(carol).toMatchObject({ stored: true, fallbackDueAt: expect.any(Number) });
        expect(dan).toMatchObject({ stored: false, suppressed: true });
        expect(erin).toMatchObject({ stored: true });
        // One call (EVALSHA, or EVAL the first time: the number of keys follows the script), with
        // no keys: the script makes them, each user's own (bob's and dan's preferences mute them).
        const numberOfKeys = commands.mock.calls.map(([command]) => Number(command.args[1]));
        expect(new Set(numberOfKeys)).toEqual(new Set([0]));
      } finally {
        commands.mockRestore();
      }
      // A duplicate answers when its fallback is due, and that none is for one without a fallback.
      const [carolAgain, erinAgain] = await sut.append([
        { ...request('carol', 'c'), fallbackDelayMs: 60_000 },
        request('erin', 'e'),
      ]);
      expect(carolAgain).toMatchObject({ stored: false, fallbackDueAt: expect.any(Number) });
      expect(erinAgain).toEqual({
        userId: 'erin',
        id: expect.any(String),
        stored: false,
        unread: 1,
      });
    });

    it('keeps the dedupe key of each notification of a call, also when all else is the same', async () => {
      const { sut, keyPrefix } = createSut({ historyLimit: 5 });
      const same = { payloadJson: '{"same":true}' };

      const [first] = await sut.appendGroups([
        [
          { ...request('twin-a', 'key-a'), ...same },
          { ...request('twin-b', 'key-b'), ...same },
        ],
      ]);
      const [again] = await sut.appendGroups([
        [
          { ...request('twin-a', 'key-b'), ...same },
          { ...request('twin-b', 'key-b'), ...same },
        ],
      ]);

      expect((first as AppendResult[]).map((r) => r.stored)).toEqual([true, true]);
      expect((again as AppendResult[]).map((r) => r.stored)).toEqual([true, false]);
      expect(await dedupeKeysOf(redis, keyPrefix, 'twin-a')).toEqual(['key-a', 'key-b']);
      expect(await dedupeKeysOf(redis, keyPrefix, 'twin-b')).toEqual(['key-b']);
    });

    it('gives each new user of one call its own epoch: no two users share a notification id', async () => {
      const { sut } = createSut({ historyLimit: 5 });
      const users = Array.from({ length: 150 }, (_, i) => `new-${i}`);

      const [results] = await sut.appendGroups([users.map((userId) => request(userId, 'k'))]);

      const ids = (results as AppendResult[]).map((r) => r.id);
      expect(ids.every((id) => seqOf(id) === 1)).toBe(true);
      expect(new Set(ids).size).toBe(users.length);
    });

    it('stores each user its own notification when one call carries several', async () => {
      const { sut } = createSut({ historyLimit: 5 });
      const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
      const kinds: Partial<AppendRequest>[] = [
        {},
        { type: 'spec.other', category: 'billing', collapseKey: 'invoice', expiresAt },
        { payloadJson: '{"n":7}', critical: true },
      ];
      // Users 0-5 in one call; neighbours share a notification or not, in every order.
      const pick = [0, 0, 1, 1, 2, 0];
      const [results] = await sut.appendGroups([
        pick.map((kind, i) => ({ ...request(`mixed-${i}`, `k${i}`), ...kinds[kind] })),
      ]);

      expect((results as AppendResult[]).map((r) => r.stored)).toEqual(pick.map(() => true));
      for (const [i, kind] of pick.entries()) {
        const [item] = (await sut.list(`mixed-${i}`, { limit: 5 })).items;
        const expected = { ...request(`mixed-${i}`, `k${i}`), ...kinds[kind] };
        expect(item).toEqual(
          expect.objectContaining({
            type: expected.type,
            payload: JSON.parse(expected.payloadJson),
            ...(expected.category === undefined ? {} : { category: expected.category }),
            ...(expected.collapseKey === undefined ? {} : { collapseKey: expected.collapseKey }),
            ...(expected.expiresAt === undefined ? {} : { expiresAt }),
          }),
        );
        expect(item.category).toBe(expected.category);
      }
    });

    it("carries nothing of one user's append over to the next user of the same call", async () => {
      const { sut, keys } = createSut({ historyLimit: 5 });
      // alice has counts, a category and a collapsed notification: state a new user must not get.
      const billing = { category: 'billing', collapseKey: 'invoice' };
      await sut.append([{ ...request('alice', 'a1'), ...billing }]);
      await sut.append([{ ...request('alice', 'a2'), ...billing }]);
      await redis.set(keys.forUser('broken').meta, 'not a hash');

      const [alice, newbie, broken, carol] = await sut.appendGroups([
        [request('alice', 'a3')],
        [request('newbie', 'n1')],
        [request('broken', 'x1')],
        [request('carol', 'c1')],
      ]);

      const [aliceId, newbieId, carolId] = [alice, newbie, carol].map(
        (group) => (group as AppendResult[])[0].id,
      );
      expect(broken).toBeInstanceOf(Error);
      expect(await sut.counts('alice')).toEqual({
        unread: 2,
        unseen: 2,
        categories: { billing: { unread: 1, unseen: 1 } },
      });
      for (const [userId, id] of [
        ['newbie', newbieId],
        ['carol', carolId],
      ]) {
        expect(await sut.counts(userId)).toEqual({ unread: 1, unseen: 1, categories: {} });
        expect(seqOf(id)).toBe(1);
        expect(epochOf(id)).not.toBe(epochOf(aliceId));
      }
    });

    it("fails only the group with a failed request, and stores the other groups' requests", async () => {
      const { sut, keys } = createSut({ historyLimit: 5 });
      // A user whose keys are broken: the script fails for this user only.
      await redis.set(keys.forUser('broken').meta, 'not a hash');

      const [good, bad] = await sut.appendGroups([
        [request('alice', 'a1')],
        [request('bob', 'b1'), request('broken', 'x1')],
      ]);

      expect(good).toEqual([expect.objectContaining({ userId: 'alice', stored: true })]);
      expect(bad).toBeInstanceOf(Error);
      expect((bad as Error).message).toContain('WRONGTYPE');
      expect(await sut.unreadCount('alice')).toBe(1);
      // The failed group's other request was stored: its retry (same key) stores nothing twice.
      expect(await appendOne(sut, 'bob', 'b1')).toMatchObject({ stored: false, unread: 1 });
      await expect(sut.append([request('broken', 'x1')])).rejects.toThrow('WRONGTYPE');
    });

    it('converts a user still in the 0.2.x layout, in any group, then stores for it', async () => {
      const { sut, keyPrefix } = createSut({ historyLimit: 5 });
      const legacy = new LegacyStore(redis, { keyPrefix, historyLimit: 5 });
      const old = await legacy.append('carol', { type: 'spec.item', payload: {}, dedupeKey: 'c0' });

      const [first, second] = await sut.appendGroups([
        [request('alice', 'a1')],
        [request('bob', 'b1'), request('carol', 'c1'), request('carol', 'c0')],
      ]);

      expect(first).toEqual([expect.objectContaining({ userId: 'alice', stored: true })]);
      const [bob, carol, again] = second as AppendResult[];
      expect(bob).toMatchObject({ userId: 'bob', stored: true, unread: 1 });
      // Carol's history goes on from 0.2.x's: the next sequence, the key 0.2.x stored kept.
      expect(carol).toMatchObject({ userId: 'carol', stored: true, unread: 2 });
      expect(seqOf(carol.id)).toBe(seqOf(old.id) + 1);
      expect(again).toMatchObject({ userId: 'carol', stored: false, id: old.id });
    });
  });

  describe('releaseDedupeKeys', () => {
    it("removes the keys from each user's index in one call, and keeps the notifications", async () => {
      const { sut, keyPrefix } = createSut({ historyLimit: 5 });
      const [a1, , b1] = await sut.append([
        request('alice', 'j:1:100'),
        request('alice', 'k:kept'),
        request('bob', 'j:1:100'),
        request('bob', 'j:2:200'),
      ]);

      await sut.releaseDedupeKeys([
        { userId: 'alice', dedupeKey: 'j:1:100' },
        { userId: 'bob', dedupeKey: 'j:1:100' },
        { userId: 'bob', dedupeKey: 'j:2:200' },
        // Not in any index: ignored.
        { userId: 'bob', dedupeKey: 'j:never' },
        { userId: 'carol', dedupeKey: 'j:1:100' },
      ]);

      expect(await dedupeKeysOf(redis, keyPrefix, 'alice')).toEqual(['k:kept']);
      expect(await dedupeKeysOf(redis, keyPrefix, 'bob')).toEqual([]);
      expect(idsOf(await sut.list('alice', { limit: 10 }))).toHaveLength(2);
      expect(idsOf(await sut.list('bob', { limit: 10 }))).toHaveLength(2);
      // A released key is no longer a duplicate; a kept one still is.
      const [again, kept] = await sut.append([
        request('alice', 'j:1:100'),
        request('alice', 'k:kept'),
      ]);
      expect(again).toMatchObject({ stored: true });
      expect(again.id).not.toBe(a1.id);
      expect(kept).toMatchObject({ stored: false });
      expect(b1.stored).toBe(true);
    });

    it('releases the keys of many users, and many keys of one user, in a few calls', async () => {
      const { sut, keys, keyPrefix } = createSut({ historyLimit: 5 });
      const users = Array.from({ length: 250 }, (_, i) => `many-${i}`);
      await sut.appendGroups([users.map((userId) => request(userId, 'j:fan:1'))]);
      // One user holding more keys than a script can pass to one command.
      const hoard = Array.from({ length: 9_000 }, (_, i) => `j:hoard:${i}`);
      await redis.zadd(keys.forUser('hoarder').dedupe, ...hoard.flatMap((key) => [1, key]));
      const pipelines = vi.spyOn(redis, 'pipeline');
      try {
        await sut.releaseDedupeKeys([
          ...users.map((userId) => ({ userId, dedupeKey: 'j:fan:1' })),
          ...hoard.map((dedupeKey) => ({ userId: 'hoarder', dedupeKey })),
        ]);
        expect(pipelines).toHaveBeenCalledTimes(1);
      } finally {
        pipelines.mockRestore();
      }

      for (const userId of [users[0], users[99], users[100], users[249], 'hoarder'])
        expect(await dedupeKeysOf(redis, keyPrefix, userId)).toEqual([]);
      expect(idsOf(await sut.list(users[249], { limit: 10 }))).toHaveLength(1);
    });

    it('does nothing for no entries', async () => {
      const { sut, keyPrefix } = createSut({ historyLimit: 5 });
      await appendOne(sut, 'alice', 'j:1:100');

      await sut.releaseDedupeKeys([]);

      expect(await dedupeKeysOf(redis, keyPrefix, 'alice')).toEqual(['j:1:100']);
    });

    it('still trims to historyLimit, with the keys left, after some were released', async () => {
      const limit = 3;
      const { sut, keyPrefix } = createSut({ historyLimit: limit });
      await sut.append([request('alice', 'k:a'), request('alice', 'j:b'), request('alice', 'k:c')]);
      await sut.releaseDedupeKeys([{ userId: 'alice', dedupeKey: 'j:b' }]);

      await sut.append([request('alice', 'k:d'), request('alice', 'k:e')]);

      expect(idsOf(await sut.list('alice', { limit: 10 }))).toHaveLength(limit);
      expect(await dedupeKeysOf(redis, keyPrefix, 'alice')).toEqual(['k:c', 'k:d', 'k:e']);
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
      const { sut, keyPrefix } = createSut({ historyLimit: 50, historyMaxAgeSeconds: 2 * 3600 });
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
      expect(await dedupeKeysOf(redis, keyPrefix, 'alice')).toEqual(['fresh', 'recent']);
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
      for (const key of [k.history, k.meta, k.dedupe]) {
        const ttl = await redis.ttl(key);
        expect({ key, ttl: ttl > 0 && ttl <= 3600 }).toEqual({ key, ttl: true });
      }
    });

    it('sets no TTL without a max age', async () => {
      const { sut, keys } = createSut({ historyLimit: 50 });
      await appendOne(sut, 'alice', 'k');

      const k = keys.forUser('alice');
      for (const key of [k.history, k.meta, k.dedupe]) {
        expect({ key, ttl: await redis.ttl(key) }).toEqual({ key, ttl: -1 });
      }
    });
  });
});
