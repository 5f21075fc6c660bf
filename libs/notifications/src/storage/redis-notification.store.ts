import { Injectable } from '@nestjs/common';
import type { ChainableCommander, Result } from 'ioredis';
import { setImmediate as endOfTurn } from 'node:timers/promises';
import {
  parseNotificationId,
  type InboxPage,
  type MarkEventData,
  type Notification,
  type NotificationCounts,
} from '@rtnotify/protocol';
import {
  NotificationStore,
  type AppendRequest,
  type AppendResult,
  type DedupeKeyEntry,
  type FallbackClaim,
  type InboxQuery,
  type MarkResult,
  type ReplayResult,
} from './notification.store.js';
import { NotificationsSettings } from '../notifications.settings.js';
import { asError } from '../utils/as-error.util.js';
import { newEpoch } from '../utils/epoch.util.js';
import {
  APPEND_BODY_REQUIRED_FIELDS,
  APPEND_KEYS_PER_USER,
  APPEND_BODY,
  APPEND_LIBRARY,
  appendManyScript,
  COUNTS_SCRIPT,
  EXPIRE_SCRIPT,
  FALLBACK_CLAIM_SCRIPT,
  FALLBACK_SETTLE_SCRIPT,
  LEGACY_KEY_ORDER,
  LEGACY_LAYOUT_ERROR,
  LIST_SCRIPT,
  MARK_SCRIPT,
  MIGRATE_SCRIPT,
  needsExtraKeys,
  RELEASE_MANY_SCRIPT,
  REPLAY_SCRIPT,
  RESCHEDULE_SCRIPT,
  USER_KEY_ORDER,
} from './lua-scripts.js';
import { isCluster, type RedisConnection } from './cluster-connection.js';
import { clusterHealth } from './cluster-health.js';
import { storePipeline } from './cluster-pipeline.js';
import { forCluster } from './cluster-scripts.js';
import { NotificationsRedis } from './notifications-redis.js';
import { APPEND_KEY_SUFFIXES, CHANNEL_SUFFIX, RedisKeys, type UserKeys } from './redis-keys.js';
import { serializedFrame } from './serialized-frame.js';
import { TurnPipeline } from './turn-pipeline.js';
import { decodeEntry } from './stored-entry.js';

type Arg = string | number;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    notifAppendMany(...args: Arg[]): Result<unknown[], Context>;
    notifReleaseMany(...args: Arg[]): Result<number, Context>;
    notifFallbackClaim(...args: Arg[]): Result<[number, string?], Context>;
    notifFallbackSettle(...args: Arg[]): Result<number, Context>;
    notifReplay(
      ...args: Arg[]
    ): Result<[string, number, number, number, number, string[], string], Context>;
    notifList(...args: Arg[]): Result<[string, string, string[], number], Context>;
    notifMark(...args: Arg[]): Result<[number, string, string[], number], Context>;
    notifCounts(...args: Arg[]): Result<[string], Context>;
    notifExpire(...args: Arg[]): Result<[number, number], Context>;
    notifReschedule(...args: Arg[]): Result<number, Context>;
    notifMigrate(...args: Arg[]): Result<number, Context>;
  }
}

/** A user on the sweeper's work list `index`, with the score it was read with. */
interface DueUser {
  index: string;
  userId: string;
  score: string;
}

/** Users whose expiries one sweep handles at most; the next sweep takes the rest. */
const SWEEP_BATCH = 200;

/**
 * Appends per pipeline at most. A fan-out (a `notify-batch` job may name 10,000 users) goes in
 * parts: built all at once, the first notification reached nobody until every user's command was
 * built and the whole was sent (about 0.3 s for 10,000 on a 2-core machine).
 */
export const APPEND_PIPELINE_MAX = 1000;

/**
 * Users per append script call on one Redis (appendManyScript): a part of a fan-out goes as
 * several calls. Redis runs one call at a time, so this bounds how long its other clients wait for
 * one (about a millisecond). At most 255: a user's place in the call makes its epoch candidate
 * unique in two hex digits (see appendManyScript).
 */
export const APPEND_CALL_MAX = 100;

/** A request's place among the replies: its script call, its reply in it, its expiry command. */
interface Placed {
  command: number;
  index: number;
  /** The command that put the user on the sweeper's list (-1: none). */
  expiry: number;
}

/**
 * The request's fields as appendManyScript takes them (APPEND_BODY_FIELDS in lua-scripts.ts), the
 * empty ones at the end left out (see APPEND_BODY_REQUIRED_FIELDS).
 */
function bodyOf(request: AppendRequest): Arg[] {
  const { collapseKey, expiresAt } = request;
  const fields: Arg[] = [
    request.type,
    request.payloadJson,
    request.dedupeKey,
    request.enqueuedAt ?? 0,
    request.category ?? '',
    expiresAt ?? '',
    expiresAt === undefined ? '' : Date.parse(expiresAt),
    collapseKey ?? '',
    collapseKey === undefined ? '' : JSON.stringify(collapseKey),
    request.critical ? '1' : '',
    request.fallbackDelayMs ?? '',
    request.fallbackWhenOffline ? '1' : '',
  ];
  let length = fields.length;
  while (length > APPEND_BODY_REQUIRED_FIELDS && fields[length - 1] === '') length -= 1;
  fields.length = length;
  return fields;
}

/** Whether two requests store the same notification (for different users): one body. */
function sameBody(a: AppendRequest, b: AppendRequest): boolean {
  return (
    a.type === b.type &&
    a.payloadJson === b.payloadJson &&
    a.dedupeKey === b.dedupeKey &&
    a.enqueuedAt === b.enqueuedAt &&
    a.category === b.category &&
    a.expiresAt === b.expiresAt &&
    a.collapseKey === b.collapseKey &&
    a.critical === b.critical &&
    a.fallbackDelayMs === b.fallbackDelayMs &&
    a.fallbackWhenOffline === b.fallbackWhenOffline
  );
}

/** A script's answer for a user whose data is still in the 0.2.x layout: migrate it first. */
function isLegacyLayout(error: unknown): boolean {
  return error instanceof Error && error.message.includes(LEGACY_LAYOUT_ERROR);
}

/** An append's result from the script's reply ([stored, id, unread, replaced, fallbackDue]). */
function appendResultOf(request: AppendRequest, reply: unknown): AppendResult {
  const [stored, id, unread, replaced, fallbackDue] = reply as [
    number,
    string,
    number,
    string,
    string,
  ];
  const result: AppendResult = { userId: request.userId, id, stored: stored === 1, unread };
  if (replaced !== '') result.replaced = replaced;
  if (stored === 2) result.suppressed = true;
  if (fallbackDue !== '') result.fallbackDueAt = Number(fallbackDue);
  return result;
}

@Injectable()
export class RedisNotificationStore extends NotificationStore {
  private readonly keys: RedisKeys;
  private readonly redis: RedisConnection;
  /** On a Redis Cluster each user's keys live on their own slot: one user per append call. */
  private readonly cluster: boolean;
  /** The replays asked for in one turn of the event loop go out as one pipeline. */
  private readonly replays = new TurnPipeline(() => this.batch());

  constructor(
    connection: NotificationsRedis,
    private readonly settings: NotificationsSettings,
  ) {
    super();
    this.redis = connection.client;
    const cluster = isCluster(this.redis);
    this.cluster = cluster;
    this.keys = new RedisKeys(settings.keyPrefix, cluster);
    // On a cluster: sharded pub/sub and the per-node sequence fence (see cluster-scripts.ts).
    const script = cluster ? forCluster : (lua: string) => lua;
    const numberOfKeys = USER_KEY_ORDER.length;
    // The append and the fallback check also take the user's preferences, presence and fallbacks
    // (APPEND_KEYS_PER_USER). The append, on one Redis, makes its users' keys from their bases (see
    // appendManyScript), and the number of KEYS (none) comes first; on a cluster a call names one
    // user's keys, so that the pipeline routes it by its first key.
    this.redis.defineCommand('notifAppendMany', {
      numberOfKeys: cluster ? APPEND_KEYS_PER_USER : undefined,
      lua: appendManyScript(
        script(APPEND_BODY),
        script(APPEND_LIBRARY),
        cluster ? undefined : { keys: APPEND_KEY_SUFFIXES, channel: CHANNEL_SUFFIX },
      ),
    });
    this.redis.defineCommand('notifFallbackClaim', {
      numberOfKeys: APPEND_KEYS_PER_USER,
      lua: script(FALLBACK_CLAIM_SCRIPT),
    });
    this.redis.defineCommand('notifFallbackSettle', {
      numberOfKeys: 1,
      lua: FALLBACK_SETTLE_SCRIPT,
    });
    this.redis.defineCommand('notifReplay', { numberOfKeys, lua: script(REPLAY_SCRIPT) });
    this.redis.defineCommand('notifList', { numberOfKeys, lua: script(LIST_SCRIPT) });
    this.redis.defineCommand('notifMark', { numberOfKeys, lua: script(MARK_SCRIPT) });
    this.redis.defineCommand('notifCounts', { numberOfKeys, lua: script(COUNTS_SCRIPT) });
    this.redis.defineCommand('notifExpire', { numberOfKeys, lua: script(EXPIRE_SCRIPT) });
    this.redis.defineCommand('notifReleaseMany', { lua: RELEASE_MANY_SCRIPT });
    this.redis.defineCommand('notifReschedule', { numberOfKeys: 1, lua: RESCHEDULE_SCRIPT });
    this.redis.defineCommand('notifMigrate', {
      numberOfKeys: numberOfKeys + LEGACY_KEY_ORDER.length,
      lua: MIGRATE_SCRIPT,
    });
  }

  /**
   * Runs a read or a mark of one user; when the user's data is still in the 0.2.x layout (the
   * script refused it, having written nothing), converts it in place and runs it again.
   */
  private async migrating<T>(userId: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (!isLegacyLayout(error)) throw error;
      await this.migrate(userId);
      return run();
    }
  }

  /** Converts one user's data from the 0.2.x layout (see MIGRATE_SCRIPT); idempotent. */
  private async migrate(userId: string): Promise<void> {
    const k = this.keys.forUser(userId);
    await this.redis.notifMigrate(...k.all, ...k.legacy);
  }

  /** USER_KEY_ORDER's KEYS and the ARGV every per-user script begins with. */
  private common(k: UserKeys, now = Date.now()): Arg[] {
    return this.withPrelude(k.all, k.channel, now);
  }

  /** `keys`, then the ARGV every per-user script begins with: channel, now, epoch candidate, TTL. */
  private withPrelude(keys: string[], channel: string, now = Date.now()): Arg[] {
    return [...keys, channel, now, newEpoch(), this.settings.historyMaxAgeSeconds];
  }

  async append(requests: AppendRequest[]): Promise<AppendResult[]> {
    const [result] = await this.appendGroups([requests]);
    if (result instanceof Error) throw result;
    return result;
  }

  /**
   * One pipeline for every group (one per node on a cluster; with REDIS_MIN_REPLICAS_ACK, WAIT after
   * each): the users' appends in calls of up to APPEND_CALL_MAX users (one on a cluster; the users
   * of a fan-out share its notification's fields, sent once per call), all groups in one round trip,
   * in order. Past APPEND_PIPELINE_MAX users (a fan-out) the pipeline goes in parts, each sent as
   * soon as it is built, with a turn of the event loop in between: Redis works on a part while the
   * next is built, and what it published is delivered meanwhile. Each group succeeds or fails alone:
   * the first error among its requests' replies fails it (others of its requests may be stored,
   * which a retry with the same dedupe keys does not store again). A call or a pipeline (part) that
   * could not be sent, or whose writes the replicas did not acknowledge, fails every group with a
   * request in it, with the same error. Users still in the 0.2.x layout (the script wrote nothing
   * for them) are converted, then appended again.
   */
  override async appendGroups(groups: AppendRequest[][]): Promise<(AppendResult[] | Error)[]> {
    if (groups.every((group) => group.length === 0)) return groups.map(() => []);
    const now = Date.now();
    const maxAge = this.settings.historyMaxAgeSeconds;
    // ARGV 2-6 of every call (see appendManyScript in lua-scripts.ts); each call has its seed.
    const shared: Arg[] = [
      now,
      maxAge,
      new Date(now).toISOString(),
      this.settings.historyLimit,
      maxAge > 0 ? now - maxAge * 1000 : '',
    ];
    const callMax = this.cluster ? 1 : APPEND_CALL_MAX;
    /** The parts sent so far: each one's replies, or its error in place of each of them. */
    const parts: Promise<[Error | null, unknown][]>[] = [];
    let pipeline = storePipeline(this.redis, this.settings.replicaAck);
    let commands = 0;
    let partStart = 0;
    let usersInPart = 0;
    /** The requests of the call being gathered, and where each one's place is to be written. */
    let call: AppendRequest[] = [];
    let callPlaces: Placed[] = [];
    const queueCall = () => {
      if (call.length === 0) return;
      commands += this.queueAppends(pipeline, call, callPlaces, shared, commands);
      call = [];
      callPlaces = [];
    };
    const send = () => {
      queueCall();
      const size = commands - partStart;
      partStart = commands;
      parts.push(
        pipeline.exec().then(
          (replies) => replies ?? [],
          (error: unknown) => Array.from({ length: size }, () => [asError(error), null]),
        ),
      );
    };
    const places = groups.map((requests) =>
      requests.map((): Placed => ({ command: -1, index: -1, expiry: -1 })),
    );
    for (const [g, requests] of groups.entries()) {
      for (const [i, request] of requests.entries()) {
        if (usersInPart === APPEND_PIPELINE_MAX) {
          send();
          await endOfTurn();
          pipeline = storePipeline(this.redis, this.settings.replicaAck);
          usersInPart = 0;
        }
        call.push(request);
        callPlaces.push(places[g][i]);
        usersInPart += 1;
        if (call.length === callMax) queueCall();
      }
    }
    send();
    const replies = (await Promise.all(parts)).flat();
    /** The request's own reply, or the first error of what was sent for it. */
    const replyOf = (place: Placed): unknown => {
      const [error, reply] = replies[place.command] ?? [
        new Error('the pipeline returned no reply'),
      ];
      if (error) return error;
      const own = (reply as unknown[] | null)?.[place.index];
      if (own === undefined) return new Error('the append script returned no reply for a user');
      if (own instanceof Error || place.expiry < 0) return own;
      return replies[place.expiry]?.[0] ?? own;
    };
    /** Per group, its requests whose user is still in the 0.2.x layout. */
    const legacy = new Map<number, number[]>();
    const results = groups.map((requests, g): (AppendResult | undefined)[] | Error => {
      const own = places[g].map(replyOf);
      const failure = own.find((reply) => reply instanceof Error && !isLegacyLayout(reply));
      if (failure) return failure as Error;
      return requests.map((request, index) => {
        const reply = own[index];
        if (!(reply instanceof Error)) return appendResultOf(request, reply);
        legacy.set(g, [...(legacy.get(g) ?? []), index]);
        return undefined;
      });
    });
    if (legacy.size > 0) {
      const stale = [...legacy];
      const again = await this.migrateAndAppend(
        stale.map(([g, indices]) => indices.map((index) => groups[g][index])),
      );
      stale.forEach(([g, indices], n) => {
        const retried = again[n];
        const group = results[g];
        if (retried instanceof Error) results[g] = retried;
        else if (!(group instanceof Error))
          indices.forEach((index, i) => (group[index] = retried[i]));
      });
    }
    // Every request has its result now: its own reply, or its append after the conversion.
    return results as (AppendResult[] | Error)[];
  }

  /**
   * Queues one call of appendManyScript for `requests` (consecutive requests with the same
   * notification share a body; each user adds its base, or on a cluster its keys and channel),
   * then each expiring one's entry on the sweeper's list; writes in `places` where each request's
   * replies will be, counting from `first`, the call's position in the pipeline, and returns how
   * many commands it queued.
   */
  private queueAppends(
    pipeline: ChainableCommander,
    requests: AppendRequest[],
    places: Placed[],
    shared: Arg[],
    first: number,
  ): number {
    const keys: string[] = [];
    const bodies: Arg[] = [];
    /** Each user's base, or on a cluster its channel (its keys go to `keys`). */
    const perUser: string[] = [];
    let bodyCount = 0;
    /** Where the current body's count of users is in `bodies`. */
    let users = -1;
    /** Whether the current body's users take the extra keys (always, on a cluster). */
    let extra = true;
    requests.forEach((request, i) => {
      const newBody = i === 0 || !sameBody(requests[i - 1], request);
      if (newBody) extra = this.cluster || needsExtraKeys(request);
      perUser.push(
        this.cluster
          ? this.keys.pushAppendKeys(keys, request.userId, extra)
          : this.keys.baseOf(request.userId),
      );
      if (!newBody) {
        bodies[users] = (bodies[users] as number) + 1;
        return;
      }
      const fields = bodyOf(request);
      users = bodies.length;
      bodies.push(1, extra ? '1' : '', fields.length, ...fields);
      bodyCount += 1;
    });
    // ARGV of appendManyScript in lua-scripts.ts; one epoch seed per call.
    const args = [bodyCount, ...shared, newEpoch().slice(0, 8), ...bodies, ...perUser];
    if (this.cluster) pipeline.notifAppendMany(...keys, ...args);
    else pipeline.notifAppendMany(0, ...args);
    let next = first + 1;
    requests.forEach((request, index) => {
      const place = places[index];
      place.command = first;
      place.index = index;
      if (request.expiresAt === undefined) return;
      // The sweeper's work list: only ever moved earlier here (LT), so a sweep in progress that read
      // the user's later expiry cannot lose this one.
      const expiresAtMs = Date.parse(request.expiresAt);
      pipeline.zadd(this.keys.expiringFor(request.userId), 'LT', expiresAtMs, request.userId);
      place.expiry = next++;
    });
    return next - first;
  }

  /**
   * Converts the users of `groups` from the 0.2.x layout, then appends the groups again (a group
   * with a user whose conversion failed fails with that error).
   */
  private async migrateAndAppend(groups: AppendRequest[][]): Promise<(AppendResult[] | Error)[]> {
    const failed = new Map<string, Error>();
    const users = new Set(groups.flat().map((request) => request.userId));
    await Promise.all(
      [...users].map((userId) =>
        this.migrate(userId).catch((error: unknown) => void failed.set(userId, asError(error))),
      ),
    );
    const failureOf = (group: AppendRequest[]) =>
      group.map((request) => failed.get(request.userId)).find((error) => error !== undefined);
    const ready = groups.filter((group) => failureOf(group) === undefined);
    const again = ready.length > 0 ? await this.appendGroups(ready) : [];
    let next = 0;
    return groups.map((group) => failureOf(group) ?? again[next++]);
  }

  async replay(userId: string, since: string | undefined): Promise<ReplayResult> {
    const k = this.keys.forUser(userId);
    let sinceEpoch = '';
    let sinceSeq = 0;
    if (since !== undefined) {
      const parsed = parseNotificationId(since);
      // An id we could never have issued cannot prove anything: treat it as from a lost history.
      sinceEpoch = parsed?.epoch ?? '?';
      sinceSeq = parsed?.seq ?? 0;
    }
    // A burst of connects (a reconnect storm) replays in one round trip.
    const [epoch, seq, version, unread, truncated, entries, counts] = await this.migrating(
      userId,
      () =>
        this.replays.send<[string, number, number, number, number, string[], string]>((pipeline) =>
          pipeline.notifReplay(...this.common(k), sinceEpoch, sinceSeq),
        ),
    );
    return {
      frames: entries.map((entry) =>
        serializedFrame<'notification'>(
          `{"event":"notification","data":{"notification":${decodeEntry(epoch, entry)},"unread":${unread},"counts":${counts}}}`,
        ),
      ),
      unread,
      counts: JSON.parse(counts) as NotificationCounts,
      cursor: `${epoch}-${seq}`,
      head: { epoch, version: Number(version) },
      truncated: truncated === 1,
    };
  }

  async list(userId: string, query: InboxQuery): Promise<InboxPage> {
    const k = this.keys.forUser(userId);
    const before = query.before === undefined ? undefined : parseNotificationId(query.before);
    const [countsJson, epoch, entries, hasMore] = await this.migrating(userId, () =>
      this.redis.notifList(
        ...this.common(k),
        // A cursor we could not have issued names no place in the history: an empty last page.
        query.before === undefined ? '' : (before?.epoch ?? '?'),
        before?.seq ?? 0,
        query.limit,
        query.status ?? 'inbox',
        query.category ?? '',
      ),
    );
    const items = entries.map((entry) => JSON.parse(decodeEntry(epoch, entry)) as Notification);
    const counts = JSON.parse(countsJson) as NotificationCounts;
    return {
      items,
      unread: counts.unread,
      counts,
      nextCursor: hasMore === 1 && items.length > 0 ? items[items.length - 1].id : null,
    };
  }

  async mark(userId: string, selection: MarkEventData): Promise<MarkResult> {
    const k = this.keys.forUser(userId);
    const args: Arg[] =
      'ids' in selection
        ? [selection.as, 'ids', '', '', ...selection.ids]
        : [selection.as, 'all', selection.category ?? '', selection.onlyRead ? '1' : ''];
    const [changed, counts, ids, unreadBefore] = await this.migrating(userId, () =>
      this.redis.notifMark(...this.common(k), ...args),
    );
    return { ids, changed, counts: JSON.parse(counts) as NotificationCounts, unreadBefore };
  }

  async counts(userId: string): Promise<NotificationCounts> {
    const [counts] = await this.migrating(userId, () =>
      this.redis.notifCounts(...this.common(this.keys.forUser(userId))),
    );
    return JSON.parse(counts) as NotificationCounts;
  }

  async claimFallback(userId: string, id: string): Promise<FallbackClaim> {
    const keys: string[] = [];
    const channel = this.keys.pushAppendKeys(keys, userId);
    // With a replica acknowledgement, the claim is on the replicas before the job is added.
    const claim = async () => {
      const pipeline = storePipeline(this.redis, this.settings.replicaAck);
      pipeline.notifFallbackClaim(...this.withPrelude(keys, channel), id);
      const [[error, reply]] = (await pipeline.exec()) ?? [];
      if (error) throw error;
      return reply as [number, string?];
    };
    const [kind, value] = await this.migrating(userId, claim);
    if (kind === 2) return { kind: 'wait', dueAt: Number(value) };
    const epoch = parseNotificationId(id)?.epoch;
    if (kind !== 1 || value === undefined || epoch === undefined) return { kind: 'none' };
    return { kind: 'send', notification: JSON.parse(decodeEntry(epoch, value)) as Notification };
  }

  async settleFallback(userId: string, id: string): Promise<void> {
    await this.redis.notifFallbackSettle(this.keys.forUser(userId).fallbacks, id);
  }

  /**
   * One pipeline for all the entries (one per node on a cluster), one ZREM per user from the user's
   * dedupe index (the ZSET `k`). Not atomic with anything, and need not be: a released key is one
   * that no append will bring again.
   */
  async releaseDedupeKeys(entries: DedupeKeyEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const byUser = new Map<string, string[]>();
    for (const { userId, dedupeKey } of entries) {
      const keys = byUser.get(userId);
      if (keys) keys.push(dedupeKey);
      else byUser.set(userId, [dedupeKey]);
    }
    const pipeline = this.batch();
    if (this.cluster) {
      for (const [userId, keys] of byUser)
        pipeline.zrem(this.keys.keyOf(userId, 'dedupe'), ...keys);
    } else {
      // One script call per APPEND_CALL_MAX users rather than a ZREM each (a fan-out's job names
      // thousands of users).
      const users = [...byUser];
      for (let i = 0; i < users.length; i += APPEND_CALL_MAX) {
        const keys: string[] = [];
        const args: Arg[] = [];
        for (const [userId, dedupeKeys] of users.slice(i, i + APPEND_CALL_MAX)) {
          keys.push(this.keys.keyOf(userId, 'dedupe'));
          args.push(dedupeKeys.length, ...dedupeKeys);
        }
        pipeline.notifReleaseMany(keys.length, ...keys, ...args);
      }
    }
    for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
  }

  async sweepExpired(): Promise<{ removed: number; more: boolean }> {
    const now = Date.now();
    // One work list on one Redis; on a cluster one per slot group, each read on its own master.
    const lists = await Promise.all(
      this.keys.expiringIndexes.map(async (index) => ({
        index,
        due: await this.redis.zrangebyscore(
          index,
          '-inf',
          now,
          'WITHSCORES',
          'LIMIT',
          0,
          SWEEP_BATCH,
        ),
      })),
    );
    const users: DueUser[] = [];
    for (const { index, due } of lists) {
      for (let i = 0; i < due.length; i += 2)
        users.push({ index, userId: due[i], score: due[i + 1] });
    }
    if (users.length === 0) return { removed: 0, more: false };
    const first = await this.expireUsers(users, now);
    // Users still in the 0.2.x layout: converted, then expired in this sweep too.
    await Promise.all(first.legacy.map(({ userId }) => this.migrate(userId)));
    const again = await this.expireUsers(first.legacy, now);
    return {
      removed: first.removed + again.removed,
      more: lists.some(({ due }) => due.length === SWEEP_BATCH * 2),
    };
  }

  /** Expires what is due for each user and moves the user to its next expiry on its work list. */
  private async expireUsers(
    users: DueUser[],
    now: number,
  ): Promise<{ removed: number; legacy: DueUser[] }> {
    if (users.length === 0) return { removed: 0, legacy: [] };
    const expiring = this.batch();
    for (const { userId } of users)
      expiring.notifExpire(...this.common(this.keys.forUser(userId), now));
    const replies = (await expiring.exec()) ?? [];
    const rescheduling = this.batch();
    let removed = 0;
    const legacy: DueUser[] = [];
    replies.forEach(([error, reply], i) => {
      if (error && isLegacyLayout(error)) return void legacy.push(users[i]);
      if (error) throw error;
      const [count, next] = reply as [number, number];
      removed += count;
      rescheduling.notifReschedule(users[i].index, users[i].userId, users[i].score, next);
    });
    for (const [error] of (await rescheduling.exec()) ?? []) if (error) throw error;
    return { removed, legacy };
  }

  /** A pipeline without replica acknowledgement: one per node on a cluster. */
  private batch(): ChainableCommander {
    return storePipeline(this.redis, { replicas: 0, timeoutMs: 0 });
  }

  async ping(): Promise<Record<string, string | number> | void> {
    if (isCluster(this.redis)) return clusterHealth(this.redis);
    if (this.redis.status !== 'ready') throw new Error(`redis ${this.redis.status}`);
    await this.redis.ping();
  }
}
