// The demo page: the browser SDK (@rtnotify/client, as built, through the page's import map) for
// live events, fetch for the HTTP inbox, nothing else.
import { connect } from '@rtnotify/client';

const SESSION_KEY = 'notifications-demo';
const PAGE_SIZE = 20;
const LOG_LIMIT = 200;

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const backoffMs = Number(params.get('backoffMs'));
/** `?backoffMs=200` shortens the reconnect waits (the browser tests use it). */
const backoff = backoffMs > 0 ? { baseMs: backoffMs, capMs: backoffMs * 10 } : undefined;

let devEndpoints = false;
/** `{ name, token }` of the signed-in user. */
let session;
let client;
/** Loaded notifications by id; the list shows them newest first. */
let items = new Map();
let nextCursor = null;
/** Counts live arrivals, so that a refetch keeps what arrived while it ran. */
let arrivals = 0;
const arrivedAt = new Map();
const fresh = new Set();
let readySeen = false;
let testCount = 0;

// ---- HTTP ----------------------------------------------------------------------------------

async function api(method, path, body, retried = false) {
  const headers = { authorization: `Bearer ${session.token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && devEndpoints && !retried) {
    // The development token expired: get a new one and try once more.
    await issueToken(session.name);
    return api(method, path, body, true);
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = Array.isArray(data.message) ? data.message.join('; ') : data.message;
    throw new Error(message || `${method} ${path}: ${response.status}`);
  }
  return data;
}

async function issueToken(name) {
  const response = await fetch('/dev/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = Array.isArray(data.message) ? data.message.join('; ') : data.message;
    throw new Error(message || `could not sign in (${response.status})`);
  }
  session = { name, token: data.token };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return data.token;
}

/** Seconds until the token expires (from its `exp`), or Infinity when it has none. */
function secondsLeft(token) {
  try {
    const payload = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    return typeof payload.exp === 'number' ? payload.exp - Date.now() / 1000 : Infinity;
  } catch {
    return Infinity;
  }
}

function userOf(token) {
  try {
    return JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).sub;
  } catch {
    return undefined;
  }
}

/** Asked by the SDK before every connection attempt: a development token is renewed near expiry. */
async function currentToken() {
  if (devEndpoints && secondsLeft(session.token) < 60) return issueToken(session.name);
  return session.token;
}

// ---- the inbox -----------------------------------------------------------------------------

/** What the list shows: a tab (`inbox`, `unread`, `archived`) and optionally one category. */
const view = { tab: 'inbox', category: null };
/** The last counts the server sent: `{unread, unseen, categories}`. */
let counts = { unread: 0, unseen: 0, categories: {} };
/** Categories seen in counts or items: their chips stay when nothing in them is unread. */
const knownCategories = new Set();

function matchesView(item) {
  if (view.category !== null && item.category !== view.category) return false;
  if (view.tab === 'archived') return item.archived === true;
  if (item.archived) return false;
  return view.tab === 'unread' ? !item.read : true;
}

function listQuery(extra = '') {
  const category = view.category === null ? '' : `&category=${encodeURIComponent(view.category)}`;
  return `/v1/me/notifications?limit=${PAGE_SIZE}&status=${view.tab}${category}${extra}`;
}

/** Loads the newest page of the view; `reset` drops what is not in it (new view, `truncated`). */
async function loadInbox({ reset }) {
  const startedAt = arrivals;
  const shown = `${view.tab}|${view.category}`;
  const page = await api('GET', listQuery());
  if (shown !== `${view.tab}|${view.category}`) return; // the view changed meanwhile
  if (reset) {
    for (const id of items.keys()) {
      if ((arrivedAt.get(id) ?? -1) <= startedAt) items.delete(id);
    }
    nextCursor = page.nextCursor;
  } else if (items.size === 0) {
    nextCursor = page.nextCursor;
  }
  for (const item of page.items) items.set(item.id, item);
  setCounts(page.counts);
  render();
}

async function loadOlder() {
  if (!nextCursor) return;
  const page = await api('GET', listQuery(`&before=${encodeURIComponent(nextCursor)}`));
  for (const item of page.items) if (!items.has(item.id)) items.set(item.id, item);
  nextCursor = page.nextCursor;
  render();
}

function showView(tab, category) {
  view.tab = tab;
  view.category = category;
  for (const button of document.querySelectorAll('[data-tab]')) {
    button.setAttribute('aria-selected', String(button.dataset.tab === tab));
  }
  items = new Map();
  nextCursor = null;
  render();
  loadInbox({ reset: true }).catch(showError);
}

/** Applies a state change (made here or in another tab) to the loaded items. */
function applyMark(as, item) {
  if (as === 'read') Object.assign(item, { read: true, seen: true });
  else if (as === 'unread') item.read = false;
  else if (as === 'seen') item.seen = true;
  else if (as === 'archived') Object.assign(item, { read: true, seen: true, archived: true });
  else if (as === 'unarchived') item.archived = false;
}

function onMarked(event) {
  if (Array.isArray(event.ids)) {
    for (const id of event.ids) {
      const item = items.get(id);
      if (item) applyMark(event.as, item);
    }
  } else {
    for (const item of items.values()) {
      if ((event.as === 'unarchived') !== item.archived) continue;
      if (event.category !== undefined && item.category !== event.category) continue;
      if (event.onlyRead && !item.read) continue;
      applyMark(event.as, item);
    }
  }
  for (const [id, item] of items) if (!matchesView(item)) items.delete(id);
  setCounts(event.counts);
  render();
  // What this view did not hold may belong in it now: fetch it.
  const adds =
    (event.as === 'unarchived' && view.tab !== 'archived') ||
    (event.as === 'archived' && view.tab === 'archived') ||
    (event.as === 'unread' && view.tab === 'unread');
  if (adds) loadInbox({ reset: false }).catch(showError);
}

function onNotification(notification) {
  // A collapse: the one it replaces (and older ones of its key) leave the list.
  if (notification.replaces) items.delete(notification.replaces);
  if (notification.collapseKey !== undefined) {
    for (const [id, item] of items) {
      if (item.collapseKey === notification.collapseKey && !item.read && !item.archived) {
        items.delete(id);
      }
    }
  }
  if (matchesView(notification)) items.set(notification.id, notification);
}

function seqOf(id) {
  const seq = Number(String(id).split('-')[1]);
  return Number.isFinite(seq) ? seq : 0;
}

function newestFirst(a, b) {
  return b.createdAt.localeCompare(a.createdAt) || seqOf(b.id) - seqOf(a.id);
}

function textOf(notification) {
  const payload = notification.payload ?? {};
  for (const key of ['message', 'title', 'text']) {
    if (typeof payload[key] === 'string') return payload[key];
  }
  const json = JSON.stringify(payload);
  return json === '{}' ? '' : json;
}

function render() {
  renderCategories();
  const list = $('list');
  const sorted = [...items.values()].filter(matchesView).sort(newestFirst);
  list.replaceChildren(...sorted.map(renderItem));
  fresh.clear();
  $('empty').hidden = sorted.length > 0;
  $('empty').textContent =
    view.tab === 'archived'
      ? 'Nothing archived.'
      : view.tab === 'unread'
        ? 'All caught up: nothing unread.'
        : 'No notifications yet.';
  $('more').hidden = !nextCursor;
}

function smallButton(className, text, onClick) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = `secondary small ${className}`;
  button.textContent = text;
  button.addEventListener('click', onClick);
  return button;
}

function renderItem(notification) {
  const li = document.createElement('li');
  li.className = 'item';
  li.classList.toggle('unread', !notification.read && !notification.archived);
  li.classList.toggle('unseen', !notification.seen && !notification.archived);
  li.classList.toggle('fresh', fresh.has(notification.id));
  li.dataset.id = notification.id;

  const main = document.createElement('div');
  main.className = 'item-main';
  const text = document.createElement('p');
  text.className = 'text';
  text.textContent = textOf(notification) || notification.type;
  if (notification.collapsedCount > 1) {
    const more = document.createElement('span');
    more.className = 'collapsed';
    more.textContent = `×${notification.collapsedCount}`;
    text.append(' ', more);
  }
  const meta = document.createElement('div');
  meta.className = 'meta';
  if (notification.category) {
    const tag = document.createElement('span');
    tag.className = 'tag';
    tag.textContent = notification.category;
    meta.append(tag, ' ');
  }
  const type = document.createElement('span');
  type.className = 'type';
  type.textContent = notification.type;
  const time = document.createElement('time');
  time.dateTime = notification.createdAt;
  time.textContent = new Date(notification.createdAt).toLocaleTimeString();
  meta.append(type, ' · ', time);
  main.append(text, meta);
  li.append(main);

  if (notification.archived) {
    li.append(smallButton('unarchive', 'Unarchive', () => unarchive(notification.id)));
  } else {
    if (!notification.read) {
      li.append(smallButton('mark-read', 'Mark read', () => markRead(notification.id)));
    }
    li.append(smallButton('archive', 'Archive', () => archive(notification.id)));
  }
  return li;
}

function markRead(id) {
  const item = items.get(id);
  if (item) applyMark('read', item);
  client.markRead([id]);
  if (item && !matchesView(item)) items.delete(id);
  render();
}

function archive(id) {
  const item = items.get(id);
  if (item) applyMark('archived', item);
  client.archive([id]);
  if (item && !matchesView(item)) items.delete(id);
  render();
}

function unarchive(id) {
  const item = items.get(id);
  if (item) applyMark('unarchived', item);
  client.unarchive([id]);
  if (item && !matchesView(item)) items.delete(id);
  render();
}

function markAllRead() {
  if (view.category === null) client.markAllRead();
  else client.mark({ as: 'read', all: true, category: view.category });
  onMarked({ as: 'read', all: true, category: view.category ?? undefined, counts });
}

function archiveAllRead() {
  client.archiveAllRead(view.category ?? undefined);
  onMarked({
    as: 'archived',
    all: true,
    onlyRead: true,
    category: view.category ?? undefined,
    counts,
  });
}

/** Opening the bell: everything is seen (nothing is read by it). */
function openBell() {
  client.markAllSeen();
  setCounts({ ...counts, unseen: 0 });
}

function setCounts(next) {
  if (!next) return;
  counts = next;
  setBadge(next.unread);
  const bell = $('unseen');
  bell.textContent = String(next.unseen);
  bell.dataset.count = String(next.unseen);
  $('bell').setAttribute('aria-label', `New: ${next.unseen} unseen (mark seen)`);
  renderCategories();
}

function renderCategories() {
  for (const name of Object.keys(counts.categories)) knownCategories.add(name);
  for (const item of items.values()) if (item.category) knownCategories.add(item.category);
  const names = new Set(knownCategories);
  if (view.category !== null) names.add(view.category);
  const chip = (category, label, count) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'chip';
    button.dataset.category = category ?? '';
    button.setAttribute('aria-pressed', String(view.category === category));
    button.append(label);
    const number = document.createElement('span');
    number.className = 'chip-count';
    number.dataset.count = String(count);
    number.textContent = String(count);
    button.append(' ', number);
    button.addEventListener('click', () => showView(view.tab, category));
    return button;
  };
  $('categories').replaceChildren(
    chip(null, 'All', counts.unread),
    ...[...names]
      .sort((a, b) => a.localeCompare(b))
      .map((name) => chip(name, name, counts.categories[name]?.unread ?? 0)),
  );
}

function setBadge(unread) {
  const badge = $('badge');
  badge.textContent = String(unread);
  badge.dataset.count = String(unread);
  document.title = unread > 0 ? `(${unread}) Notifications demo` : 'Notifications demo';
}

// ---- connection state and log --------------------------------------------------------------

function describeState(event) {
  if (event.state === 'open') return 'live';
  if (event.state === 'connecting') return 'connecting…';
  if (event.final) return 'disconnected';
  if (event.reconnectInMs !== undefined) {
    return `offline · retrying in ${(event.reconnectInMs / 1000).toFixed(1)} s`;
  }
  return 'offline';
}

function showState(event) {
  $('state').dataset.state = event.state;
  $('state-text').textContent = describeState(event);
  document.body.dataset.state = event.state;
}

function log(event, text, id) {
  const entry = document.createElement('li');
  entry.dataset.event = event;
  if (id) entry.dataset.id = id;
  entry.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  const list = $('log');
  list.append(entry);
  while (list.children.length > LOG_LIMIT) list.firstElementChild.remove();
}

function notice(text) {
  $('notice').textContent = text ?? '';
  $('notice').hidden = !text;
}

// ---- session -------------------------------------------------------------------------------

function start() {
  $('signin').hidden = true;
  $('inbox').hidden = false;
  $('user').textContent = userOf(session.token) ?? session.name ?? '?';
  $('send-test').hidden = !devEndpoints;
  $('test-category').hidden = !devEndpoints;
  items = new Map();
  nextCursor = null;
  readySeen = false;
  view.tab = 'inbox';
  view.category = null;
  counts = { unread: 0, unseen: 0, categories: {} };
  knownCategories.clear();
  notice();
  setCounts(counts);
  render();

  client = connect({ url: '/ws', token: currentToken, backoff });
  client.on('state', (event) => {
    showState(event);
    const detail = event.code ? ` (${event.code}${event.reason ? ` ${event.reason}` : ''})` : '';
    log('state', `${event.state}${detail}`);
  });
  client.on('ready', (ready) => {
    setBadge(ready.unread);
    setCounts(ready.counts);
    log('ready', `ready: ${ready.unread} unread, ${ready.replayed} replayed`);
    const first = !readySeen;
    readySeen = true;
    // On a reconnect, states may have changed meanwhile: the view is fetched again.
    if (first || !ready.truncated) loadInbox({ reset: true }).catch(showError);
  });
  client.on('truncated', () => {
    log('truncated', 'history truncated: refetching the inbox');
    if (readySeen) loadInbox({ reset: true }).catch(showError);
  });
  client.on('notification', ({ notification, unread, replayed, counts: latest }) => {
    arrivals += 1;
    arrivedAt.set(notification.id, arrivals);
    onNotification(notification);
    if (!replayed) fresh.add(notification.id);
    setBadge(unread);
    setCounts(latest);
    render();
    log(
      'notification',
      `notification ${notification.id}${replayed ? ' (replayed)' : ''}`,
      notification.id,
    );
  });
  client.on('unread', ({ unread }) => {
    setBadge(unread);
    log('unread', `unread: ${unread}`);
  });
  client.on('marked', (event) => {
    onMarked(event);
    const what = Array.isArray(event.ids) ? `${event.ids.length} marked` : 'all marked';
    log('marked', `${what} ${event.as}`);
  });
  client.on('removed', ({ ids, reason, counts: latest }) => {
    for (const id of ids) items.delete(id);
    setCounts(latest);
    render();
    log('removed', `${ids.length} removed (${reason})`);
  });
  client.on('error', (error) => {
    log('error', `${error.code}: ${error.message}`);
    if (error.fatal) {
      notice(
        error.code === 'unauthorized'
          ? 'Your token was refused. Sign out and sign in again.'
          : `Disconnected: ${error.message}`,
      );
    }
  });
}

function signOut() {
  client?.close();
  client = undefined;
  session = undefined;
  sessionStorage.removeItem(SESSION_KEY);
  $('inbox').hidden = true;
  $('signin').hidden = false;
  showState({ state: 'closed', final: true });
  $('state-text').textContent = 'not connected';
}

function showError(error) {
  notice(error instanceof Error ? error.message : String(error));
}

async function signIn(event) {
  event.preventDefault();
  $('signin-error').textContent = '';
  const button = $('signin-button');
  button.disabled = true;
  try {
    if (devEndpoints) {
      const name = $('name').value.trim();
      if (!name) throw new Error('Enter a name.');
      await issueToken(name);
    } else {
      const token = $('token').value.trim();
      if (!userOf(token)) throw new Error('That does not look like a JWT with a sub.');
      // A browser cannot see why an upgrade was refused (401 looks like a network failure), so the
      // token is tried over HTTP first.
      const check = await fetch('/v1/me/notifications?limit=1', {
        headers: { authorization: `Bearer ${token}` },
      });
      if (check.status === 401) {
        const { message } = await check.json().catch(() => ({}));
        throw new Error(`The service refused this token${message ? `: ${message}` : ''}.`);
      }
      session = { token };
      sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    }
    start();
  } catch (error) {
    $('signin-error').textContent = error instanceof Error ? error.message : String(error);
  } finally {
    button.disabled = false;
  }
}

async function sendTest() {
  const button = $('send-test');
  button.disabled = true;
  try {
    testCount += 1;
    const category = $('test-category').value;
    await api('POST', '/dev/notify', {
      message: `Test notification #${testCount}`,
      ...(category ? { category } : {}),
    });
  } catch (error) {
    showError(error);
  } finally {
    button.disabled = false;
  }
}

async function main() {
  const config = await fetch('/demo/config').then((response) => response.json());
  devEndpoints = config.devEndpoints === true;
  $('dev-signin').hidden = !devEndpoints;
  $('token-signin').hidden = devEndpoints;
  $('signin-form').addEventListener('submit', (event) => void signIn(event));
  $('signout').addEventListener('click', signOut);
  $('send-test').addEventListener('click', () => void sendTest());
  $('mark-all').addEventListener('click', markAllRead);
  $('archive-read').addEventListener('click', archiveAllRead);
  $('bell').addEventListener('click', openBell);
  for (const button of document.querySelectorAll('[data-tab]')) {
    button.addEventListener('click', () => showView(button.dataset.tab, view.category));
  }
  $('more').addEventListener('click', () => void loadOlder().catch(showError));

  const saved = sessionStorage.getItem(SESSION_KEY);
  session = saved ? JSON.parse(saved) : undefined;
  if (session?.token) start();
  else $('signin').hidden = false;
  document.body.dataset.page = 'ready';
}

main().catch((error) => {
  document.body.dataset.page = 'failed';
  $('signin').hidden = false;
  $('signin-error').textContent = `The page could not start: ${error.message}`;
});
