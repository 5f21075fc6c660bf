import calculateSlot from 'cluster-key-slot';
import { APPEND_EXTRA_KEYS, LEGACY_KEY_ORDER, USER_KEY_ORDER } from './lua-scripts.js';

/** The keys of one user's data; see lua-scripts.ts for what each holds. */
export interface UserKeys {
  /** LIST of the stored notifications, oldest first (see lua-scripts.ts for an entry's form). */
  history: string;
  /** HASH: `epoch`, `seq`, `v`, `t`, `un`, `us`, `lv`, `ne`, `cats`, `rm`. */
  meta: string;
  /** ZSET dedupe key → seq. */
  dedupe: string;
  /** HASH `u:<category>` / `n:<category>` → count. */
  categoryCounts: string;
  /** ZSET expiresAt (ms) → seq. */
  expiry: string;
  /** ZSET collapse key → seq of the newest notification with it. */
  collapse: string;
  /**
   * HASH dedupe key → id of the BullMQ job that will deliver it (scheduled notifications; see
   * schedule-scripts.ts). Not in `all`: the history's TTL never touches it.
   */
  scheduled: string;
  /** Pub/sub channel of the user's frames. */
  channel: string;
  /** ZSET gateway instance id → deadline (ms): the user is online iff a score is > now. */
  presence: string;
  /** HASH `i:<category>` / `f:<category>` → "0" when in-app / fallback is off (missing: on). */
  preferences: string;
  /** ZSET seq → `<id>|<state>`: the fallback decided for a notification (see fallback-scripts.ts). */
  fallbacks: string;
  /** Every key above but the channel, in the order the scripts take them as KEYS. */
  all: string[];
  /** The keys of the 0.2.x layout (LEGACY_KEY_ORDER): only the migration still reads them. */
  legacy: string[];
}

/**
 * On a cluster, the hash tag is what lies between the first `{` and the next `}`: a user id that
 * begins with `}` would leave it empty, and the user's keys would hash apart. Such ids (and, to keep
 * the mapping one to one, ids beginning with `=`) get a leading `=` inside the braces.
 */
function clusterTag(userId: string): string {
  return userId.startsWith('}') || userId.startsWith('=') ? `=${userId}` : userId;
}

/**
 * On a cluster the sweeper's work list is split by hash slot: one index per group of
 * `16384 / EXPIRY_GROUPS` consecutive slots, each under a hash tag that falls in its own group. A
 * user's entry goes to the index of the user's slot group, so the index and the user's keys are
 * served by the same master whenever the group is (with the contiguous slot ranges
 * `redis-cli --cluster create` hands out, all but the groups that straddle a range boundary), and no
 * single key takes every expiry write of the cluster.
 */
export const EXPIRY_GROUPS = 16;
const SLOTS_PER_GROUP = 16384 / EXPIRY_GROUPS;

/** For each slot group, the first tag `x0`, `x1`, … whose slot lies in it. */
const GROUP_TAGS: readonly string[] = (() => {
  const tags: string[] = [];
  for (let n = 0; tags.filter(Boolean).length < EXPIRY_GROUPS; n++) {
    const group = Math.floor(calculateSlot(`x${n}`) / SLOTS_PER_GROUP);
    tags[group] ??= `x${n}`;
  }
  return tags;
})();

/** What each of a user's keys (and its channel) is called after its base: the scripts' names. */
const SUFFIXES = {
  history: 'l',
  meta: 'm',
  dedupe: 'k',
  categoryCounts: 'c',
  expiry: 'e',
  collapse: 'cz',
  scheduled: 's',
  channel: 'ch',
  presence: 'p',
  preferences: 'pr',
  fallbacks: 'fb',
} as const satisfies Record<Exclude<keyof UserKeys, 'all' | 'legacy'>, string>;

/** One of a user's keys, or its channel. */
export type UserKeyName = keyof typeof SUFFIXES;

/** What a user's channel is called after its base. */
export const CHANNEL_SUFFIX = SUFFIXES.channel;

/** The suffixes of the append's KEYS, in order: USER_KEY_ORDER, then APPEND_EXTRA_KEYS. */
export const APPEND_KEY_SUFFIXES: readonly string[] = [
  ...USER_KEY_ORDER,
  ...APPEND_EXTRA_KEYS.map((name) => SUFFIXES[name]),
];

/**
 * Every key of one user shares the hash tag `{userId}`, so one script can touch them all, also on a
 * Redis Cluster (where `cluster` escapes the few ids that would break the tag).
 */
export class RedisKeys {
  /** The sweeper's work lists: one on one Redis, one per slot group on a cluster. */
  readonly expiringIndexes: readonly string[];

  constructor(
    private readonly prefix: string,
    private readonly cluster = false,
  ) {
    this.expiringIndexes = cluster
      ? GROUP_TAGS.map((tag) => `${prefix}:{${tag}}:expiring`)
      : [`${prefix}:expiring`];
  }

  forUser(userId: string): UserKeys {
    const base = this.baseOf(userId);
    return {
      history: base + SUFFIXES.history,
      meta: base + SUFFIXES.meta,
      dedupe: base + SUFFIXES.dedupe,
      categoryCounts: base + SUFFIXES.categoryCounts,
      expiry: base + SUFFIXES.expiry,
      collapse: base + SUFFIXES.collapse,
      scheduled: base + SUFFIXES.scheduled,
      channel: base + SUFFIXES.channel,
      presence: base + SUFFIXES.presence,
      preferences: base + SUFFIXES.preferences,
      fallbacks: base + SUFFIXES.fallbacks,
      legacy: LEGACY_KEY_ORDER.map((name) => base + name),
      all: USER_KEY_ORDER.map((name) => base + name),
    };
  }

  /**
   * One of the user's keys (or its channel): `forUser(userId)[name]`, without making the other 23
   * strings, for what runs per connect, per presence refresh or per released key.
   */
  keyOf(userId: string, name: UserKeyName): string {
    return this.baseOf(userId) + SUFFIXES[name];
  }

  /**
   * Pushes onto `into` the user's keys as the append and the fallback check take them (the KEYS of
   * APPEND_SCRIPT: USER_KEY_ORDER, then APPEND_EXTRA_KEYS; without `extra`, USER_KEY_ORDER only),
   * and returns the user's channel (their ARGV[1]), all from one base: a fan-out on a cluster
   * builds them for every user (on one Redis the append makes them from `baseOf`).
   */
  pushAppendKeys(into: string[], userId: string, extra = true): string {
    const base = this.baseOf(userId);
    const count = extra ? APPEND_KEY_SUFFIXES.length : USER_KEY_ORDER.length;
    for (let i = 0; i < count; i++) into.push(base + APPEND_KEY_SUFFIXES[i]);
    return base + SUFFIXES.channel;
  }

  /**
   * What every key of the user begins with (and the user's channel): the key is the base and its
   * suffix (see appendManyScript, which makes them so).
   */
  baseOf(userId: string): string {
    return `${this.prefix}:{${this.cluster ? clusterTag(userId) : userId}}:`;
  }

  /**
   * ZSET userId → when something of that user is due to expire (ms): the sweeper's work list that
   * holds `userId` (on a cluster, the one of the user's slot group).
   */
  expiringFor(userId: string): string {
    if (!this.cluster) return this.expiringIndexes[0];
    const slot = calculateSlot(this.keyOf(userId, 'meta'));
    return this.expiringIndexes[Math.floor(slot / SLOTS_PER_GROUP)];
  }

  userOfChannel(channel: string): string | undefined {
    const head = `${this.prefix}:{`;
    const tail = `}:${SUFFIXES.channel}`;
    if (!channel.startsWith(head) || !channel.endsWith(tail)) return undefined;
    const tag = channel.slice(head.length, -tail.length);
    return this.cluster && tag.startsWith('=') ? tag.slice(1) : tag;
  }
}
