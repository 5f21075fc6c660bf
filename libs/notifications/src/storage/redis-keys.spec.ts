import calculateSlot from 'cluster-key-slot';
import fc from 'fast-check';
import { EXPIRY_GROUPS, RedisKeys, type UserKeyName, type UserKeys } from './redis-keys.js';

/** The hash tag Redis Cluster hashes for `key`: between the first `{` and the next `}`, if not empty. */
function hashTag(key: string): string | undefined {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}

/** Every key of a user, the channel and the presence key. */
const keysOf = (keys: UserKeys): string[] => [...keys.all, keys.channel, keys.presence];

const awkward = ['}', '}x', '}}', '=', '=x', '==}', 'a}b', 'a{b', '{', '{}', 'x}', ' ', 'é}'];

describe(RedisKeys.name, () => {
  describe('on one Redis', () => {
    it('keeps the layout prefix:{userId}:<kind>', () => {
      const sut = new RedisKeys('p');

      expect(sut.forUser('}x')).toMatchObject({
        history: 'p:{}x}:l',
        channel: 'p:{}x}:ch',
        presence: 'p:{}x}:p',
      });
      expect(sut.userOfChannel('p:{}x}:ch')).toBe('}x');
    });

    it("names each key alone as forUser names it, and the append's keys in the scripts' order with the channel", () => {
      for (const cluster of [false, true]) {
        const sut = new RedisKeys('p', cluster);
        for (const userId of ['alice', ...awkward]) {
          const keys = sut.forUser(userId);
          const names = Object.keys(keys).filter((name) => name !== 'all' && name !== 'legacy');
          for (const name of names as UserKeyName[]) {
            expect(sut.keyOf(userId, name)).toBe(keys[name]);
          }
          const appendKeys: string[] = [];
          expect(sut.pushAppendKeys(appendKeys, userId)).toBe(keys.channel);
          expect(appendKeys).toEqual([
            ...keys.all,
            keys.preferences,
            keys.presence,
            keys.fallbacks,
          ]);
          const ownKeys: string[] = [];
          expect(sut.pushAppendKeys(ownKeys, userId, false)).toBe(keys.channel);
          expect(ownKeys).toEqual(keys.all);
        }
      }
    });

    it('keeps one expiry work list for every user', () => {
      const sut = new RedisKeys('p');

      expect(sut.expiringIndexes).toEqual(['p:expiring']);
      expect(sut.expiringFor('a')).toBe('p:expiring');
      expect(sut.expiringFor('b')).toBe('p:expiring');
    });
  });

  describe('on a cluster', () => {
    const sut = new RedisKeys('p', true);

    it.each(awkward)(
      'puts every key and the channel of user %j in one slot, under a tag',
      (userId) => {
        const keys = keysOf(sut.forUser(userId));
        const tags = keys.map(hashTag);

        expect(tags.every((tag) => tag !== undefined && tag === tags[0])).toBe(true);
        expect(new Set(keys.map((key) => calculateSlot(key))).size).toBe(1);
        expect(sut.userOfChannel(sut.forUser(userId).channel)).toBe(userId);
      },
    );

    it('keeps the plain layout for ids that need no escape', () => {
      expect(sut.forUser('42').channel).toBe('p:{42}:ch');
    });

    it('maps different users to different keys and back, for any id', () => {
      fc.assert(
        fc.property(
          fc.string({ minLength: 1, maxLength: 128, unit: 'grapheme' }),
          fc.string({ minLength: 1, maxLength: 128, unit: 'grapheme' }),
          (a, b) => {
            const keysA = sut.forUser(a);
            expect(sut.userOfChannel(keysA.channel)).toBe(a);
            const slots = new Set(keysOf(keysA).map((key) => calculateSlot(key)));
            expect(slots.size).toBe(1);
            if (a !== b) expect(sut.forUser(b).history).not.toBe(keysA.history);
          },
        ),
        { examples: awkward.map((a) => [a, `=${a}`] as [string, string]) },
      );
    });

    it('has one expiry work list per slot group, each hashing into its own group', () => {
      const groupOf = (key: string) => Math.floor(calculateSlot(key) / (16384 / EXPIRY_GROUPS));

      expect(sut.expiringIndexes).toHaveLength(EXPIRY_GROUPS);
      expect(sut.expiringIndexes.map(groupOf)).toEqual([...Array(EXPIRY_GROUPS).keys()]);
    });

    it("puts a user's expiries in the work list of the user's slot group", () => {
      fc.assert(
        fc.property(fc.string({ minLength: 1, maxLength: 64 }), (userId) => {
          const groupOf = (key: string) => Math.floor(calculateSlot(key) / (16384 / EXPIRY_GROUPS));

          expect(groupOf(sut.expiringFor(userId))).toBe(groupOf(sut.forUser(userId).meta));
        }),
      );
    });
  });
});
