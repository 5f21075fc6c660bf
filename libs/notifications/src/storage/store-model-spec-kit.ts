import type { InboxStatus, MarkAs, Notification, NotificationCounts } from '@rtnotify/protocol';
import { byCodeUnits } from './store-spec-kit.js';

/*
 * The reference model of the store that the model-based spec (redis-notification.store.model.spec.ts)
 * checks it against: what each user's history holds, what a client sees of it, and the frames each
 * change publishes. Plain data, no Redis.
 */

export const USERS = ['alice', 'bob'];
export const CATEGORIES = ['billing', 'social'];
export const HISTORY_LIMIT = 5;
export const START = Date.parse('2030-01-01T00:00:00.000Z');

/** Where an id given to a mark comes from, resolved against the model when it runs. */
export type IdPick =
  | { from: 'own'; index: number } // a retained id of the user, in any state
  | { from: 'other'; user: number; index: number } // a retained id of another user
  | { from: 'trimmed'; index: number } // an id of the user that was trimmed
  | { from: 'removed'; index: number } // an id of the user that was collapsed or expired
  | { from: 'future'; offset: number } // the user's epoch with a sequence not issued yet
  | { from: 'garbage'; value: string };

export type SinceChoice =
  | { from: 'none' }
  | { from: 'cursor' }
  | { from: 'zero' }
  | { from: 'issued'; index: number }
  | { from: 'future'; offset: number };

export interface AppendPlan {
  user: number;
  dedupeKey: string | null;
  category: string | null;
  collapseKey: string | null;
  /** Expires this many ms after now. */
  expiresIn: number | null;
}

export type Operation =
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

export interface ModelEntry {
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

export interface ModelUser {
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

export interface Frame {
  event: string;
  data: Record<string, unknown>;
}

/** How often the interesting cases came up, to prove the runs exercised them. */
export const coverage = {
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
export const markedKinds = new Set<string>();

export const countsOf = (model: ModelUser): NotificationCounts => {
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

export const unreadOf = (model: ModelUser): number => countsOf(model).unread;

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
export function visible(entry: ModelEntry): Notification {
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

export function listed(model: ModelUser, status: InboxStatus, only: string | null) {
  return model.entries
    .filter((e) => matches(e, status, only))
    .reverse()
    .map(visible);
}

export function resolvePick(models: ModelUser[], target: number, choice: IdPick): string {
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

export function resolveSince(model: ModelUser, choice: SinceChoice): string | undefined {
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
export function removeEntry(model: ModelUser, entry: ModelEntry): void {
  model.entries.splice(model.entries.indexOf(entry), 1);
  model.removed.push(entry.id);
  if (entry.collapseKey !== undefined && model.collapseHeads.get(entry.collapseKey) === entry.seq) {
    model.collapseHeads.delete(entry.collapseKey);
  }
}

function nextState(as: MarkAs, entry: ModelEntry): Pick<ModelEntry, 'read' | 'seen' | 'archived'> {
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
export function applyMark(as: MarkAs, entries: ModelEntry[]): string[] {
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
export function markFrames(
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
export function expireModels(models: ModelUser[], now: number): Map<number, Frame[]> {
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
