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

/** Loads the newest page; `reset` drops what is not in it (after `truncated`). */
async function loadInbox({ reset }) {
  const startedAt = arrivals;
  const page = await api('GET', `/v1/me/notifications?limit=${PAGE_SIZE}`);
  if (reset) {
    for (const id of items.keys()) {
      if ((arrivedAt.get(id) ?? -1) <= startedAt) items.delete(id);
    }
    nextCursor = page.nextCursor;
  } else if (items.size === 0) {
    nextCursor = page.nextCursor;
  }
  for (const item of page.items) items.set(item.id, item);
  render();
}

async function loadOlder() {
  if (!nextCursor) return;
  const page = await api(
    'GET',
    `/v1/me/notifications?limit=${PAGE_SIZE}&before=${encodeURIComponent(nextCursor)}`,
  );
  for (const item of page.items) if (!items.has(item.id)) items.set(item.id, item);
  nextCursor = page.nextCursor;
  render();
}

/** Read flags changed elsewhere (another tab): bring the loaded ones up to date. */
async function refreshReadFlags(unread) {
  if (unread === 0) {
    for (const item of items.values()) item.read = true;
    render();
    return;
  }
  const limit = Math.min(100, Math.max(PAGE_SIZE, items.size));
  const page = await api('GET', `/v1/me/notifications?limit=${limit}`);
  for (const item of page.items) {
    const known = items.get(item.id);
    if (known) known.read = item.read;
  }
  render();
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
  const list = $('list');
  const sorted = [...items.values()].sort(newestFirst);
  list.replaceChildren(...sorted.map(renderItem));
  fresh.clear();
  $('empty').hidden = sorted.length > 0;
  $('more').hidden = !nextCursor;
}

function renderItem(notification) {
  const li = document.createElement('li');
  li.className = 'item';
  li.classList.toggle('unread', !notification.read);
  li.classList.toggle('fresh', fresh.has(notification.id));
  li.dataset.id = notification.id;

  const main = document.createElement('div');
  main.className = 'item-main';
  const text = document.createElement('p');
  text.className = 'text';
  text.textContent = textOf(notification) || notification.type;
  const meta = document.createElement('div');
  meta.className = 'meta';
  const type = document.createElement('span');
  type.className = 'type';
  type.textContent = notification.type;
  const time = document.createElement('time');
  time.dateTime = notification.createdAt;
  time.textContent = new Date(notification.createdAt).toLocaleTimeString();
  meta.append(type, ' · ', time);
  main.append(text, meta);
  li.append(main);

  if (!notification.read) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'secondary mark-read';
    button.textContent = 'Mark read';
    button.addEventListener('click', () => markRead(notification.id));
    li.append(button);
  }
  return li;
}

function markRead(id) {
  const item = items.get(id);
  if (item) item.read = true;
  client.markRead([id]);
  render();
}

function markAllRead() {
  for (const item of items.values()) item.read = true;
  client.markAllRead();
  render();
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
  items = new Map();
  nextCursor = null;
  readySeen = false;
  notice();
  render();

  client = connect({ url: '/ws', token: currentToken, backoff });
  client.on('state', (event) => {
    showState(event);
    const detail = event.code ? ` (${event.code}${event.reason ? ` ${event.reason}` : ''})` : '';
    log('state', `${event.state}${detail}`);
  });
  client.on('ready', (ready) => {
    setBadge(ready.unread);
    log('ready', `ready: ${ready.unread} unread, ${ready.replayed} replayed`);
    const first = !readySeen;
    readySeen = true;
    if (first) loadInbox({ reset: true }).catch(showError);
    else if (!ready.truncated) refreshReadFlags(ready.unread).catch(showError);
  });
  client.on('truncated', () => {
    log('truncated', 'history truncated: refetching the inbox');
    if (readySeen) loadInbox({ reset: true }).catch(showError);
  });
  client.on('notification', ({ notification, unread, replayed }) => {
    arrivals += 1;
    arrivedAt.set(notification.id, arrivals);
    items.set(notification.id, notification);
    if (!replayed) fresh.add(notification.id);
    setBadge(unread);
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
    refreshReadFlags(unread).catch(showError);
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
    await api('POST', '/dev/notify', { message: `Test notification #${testCount}` });
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
