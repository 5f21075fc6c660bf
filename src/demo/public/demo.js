// The demo page: a showcase of <rtnotify-inbox> (@rtnotify/inbox, its one-file bundle through the
// page's import map). The page signs in, hands the component a token function, offers a test
// button, and logs the component's events. The inbox itself is the component's.
import { TAG_NAME } from '@rtnotify/inbox';

const SESSION_KEY = 'notifications-demo';
const LOG_LIMIT = 200;

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const backoffMs = Number(params.get('backoffMs'));
/** `?backoffMs=200` shortens the reconnect waits (the browser tests use it). */
const backoff = backoffMs > 0 ? { baseMs: backoffMs, capMs: backoffMs * 10 } : undefined;

let devEndpoints = false;
/** `{ name, token }` of the signed-in user. */
let session;
/** The `<rtnotify-inbox>` of the signed-in user. */
let inbox;
let testCount = 0;

// ---- tokens --------------------------------------------------------------------------------

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

function claimsOf(token) {
  try {
    return JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
  } catch {
    return {};
  }
}

/** Asked by the component before every connection and on a refused token: renewed near expiry. */
async function currentToken() {
  const exp = claimsOf(session.token).exp;
  const left = typeof exp === 'number' ? exp - Date.now() / 1000 : Infinity;
  if (devEndpoints && left < 60) return issueToken(session.name);
  return session.token;
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
  $('user').textContent = claimsOf(session.token).sub ?? session.name ?? '?';
  $('send-test').hidden = !devEndpoints;
  $('test-category').hidden = !devEndpoints;
  notice();
  inbox = document.createElement(TAG_NAME);
  inbox.id = 'notifications';
  inbox.gatewayUrl = '/ws';
  inbox.theme = $('dark').checked ? 'dark' : 'light';
  inbox.categories = ['social', 'billing', 'system'];
  if (backoff) inbox.backoff = backoff;
  inbox.token = currentToken;
  inbox.addEventListener('rtnotify-state', ({ detail: event }) => {
    showState(event);
    const detail = event.code ? ` (${event.code}${event.reason ? ` ${event.reason}` : ''})` : '';
    log('state', `${event.state}${detail}`);
  });
  inbox.addEventListener('rtnotify-notification', ({ detail: notification }) => {
    log('notification', `notification ${notification.id}`, notification.id);
  });
  inbox.addEventListener('rtnotify-counts', ({ detail: counts }) => {
    // The page's own use of the counts: its title and an unread figure beside the user's name.
    $('badge').textContent = String(counts.unread);
    $('badge').dataset.count = String(counts.unread);
    document.title =
      counts.unread > 0 ? `(${counts.unread}) Notifications demo` : 'Notifications demo';
  });
  inbox.addEventListener('rtnotify-preferences', () => log('preferences', 'preferences saved'));
  inbox.addEventListener('rtnotify-error', ({ detail: error }) => {
    log('error', `${error.code}: ${error.message}`);
    if (error.code === 'unauthorized') {
      notice('Your token was refused. Sign out and sign in again.');
    }
  });
  $('bell-slot').replaceChildren(inbox);
}

async function signOut() {
  const current = inbox;
  inbox = undefined;
  session = undefined;
  sessionStorage.removeItem(SESSION_KEY);
  // The component closes its connection and forgets the user's cached inbox.
  await current?.signOut();
  current?.remove();
  $('inbox').hidden = true;
  $('signin').hidden = false;
  showState({ state: 'closed', final: true });
  $('state-text').textContent = 'not connected';
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
      if (!claimsOf(token).sub) throw new Error('That does not look like a JWT with a sub.');
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
    const response = await fetch('/dev/notify', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await currentToken()}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        message: `Test notification #${testCount}`,
        ...(category ? { category } : {}),
      }),
    });
    if (!response.ok) throw new Error(`could not send (${response.status})`);
  } catch (error) {
    notice(error instanceof Error ? error.message : String(error));
  } finally {
    button.disabled = false;
  }
}

function applyLook() {
  const dark = $('dark').checked;
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  document.documentElement.dir = $('rtl').checked ? 'rtl' : 'ltr';
  if (inbox) inbox.theme = dark ? 'dark' : 'light';
}

async function main() {
  const config = await fetch('/demo/config').then((response) => response.json());
  devEndpoints = config.devEndpoints === true;
  $('dev-signin').hidden = !devEndpoints;
  $('token-signin').hidden = devEndpoints;
  $('signin-form').addEventListener('submit', (event) => void signIn(event));
  $('signout').addEventListener('click', () => void signOut());
  $('send-test').addEventListener('click', () => void sendTest());
  $('dark').checked = params.get('theme') === 'dark';
  $('rtl').checked = params.get('dir') === 'rtl';
  $('dark').addEventListener('change', applyLook);
  $('rtl').addEventListener('change', applyLook);
  applyLook();

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
