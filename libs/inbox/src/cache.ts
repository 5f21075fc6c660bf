import type { Notification, NotificationCounts } from '@rtnotify/protocol';
import { createStore, del, get, set, type UseStore } from 'idb-keyval';

/** What is kept per user: the newest page of the inbox, the counts, and where to resume. */
export interface CachedInbox {
  version: 1;
  items: Notification[];
  nextCursor: string | null;
  counts: NotificationCounts | undefined;
  /** The id the socket resumes after (`since`). */
  lastId: string | undefined;
  savedAt: string;
}

let store: UseStore | undefined;

/** The IndexedDB store, or undefined where there is none (a private window may refuse it). */
function cacheStore(): UseStore | undefined {
  if (typeof indexedDB === 'undefined') return undefined;
  store ??= createStore('rtnotify-inbox', 'users');
  return store;
}

export async function readCache(key: string): Promise<CachedInbox | undefined> {
  const db = cacheStore();
  if (!db) return undefined;
  try {
    const value = await get<CachedInbox>(key, db);
    return value?.version === 1 ? value : undefined;
  } catch {
    return undefined;
  }
}

export async function writeCache(key: string, value: CachedInbox): Promise<void> {
  const db = cacheStore();
  if (!db) return;
  try {
    await set(key, value, db);
  } catch {
    // A full or refused store only costs the offline start.
  }
}

export async function clearCache(key: string): Promise<void> {
  const db = cacheStore();
  if (!db) return;
  try {
    await del(key, db);
  } catch {
    // Nothing to clear.
  }
}
