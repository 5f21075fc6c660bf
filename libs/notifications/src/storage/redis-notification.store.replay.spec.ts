import { RedisNotificationStore } from './redis-notification.store.js';
import { appendMany, createSut, epochOf, parseFrames, useRedis } from './store-spec-kit.js';

/*
 * Replay: resuming after an id, and when a resume was truncated (also for histories of v1).
 */

useRedis();

describe(RedisNotificationStore.name, () => {
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
});
