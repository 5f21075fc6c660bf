import { parseNotificationId } from '@rtnotify/protocol';
import WebSocket from 'ws';
import { sleep } from './timing.mjs';

/**
 * A browser tab that follows one user's stream across closes: it resumes from the last id it saw,
 * on whichever gateway `target()` names (a `ws://…/ws` URL), and counts what it got twice or out of
 * order. A socket that fails before `ready` is tried again after a growing pause (50 ms to 1 s).
 */
export class ResumingTab {
  received = [];
  closes = [];
  duplicates = 0;
  reordered = 0;
  truncations = 0;
  #seen = new Set();
  #lastId;
  #socket;
  #stopped = false;
  #connecting = Promise.resolve();
  #waiters = new Set();

  /** `onNotification` sees each notification the first time its id arrives. */
  constructor(token, target, onNotification) {
    this.token = token;
    this.target = target;
    this.onNotification = onNotification;
  }

  async open() {
    this.#connecting = this.#connect();
    await this.#connecting;
  }

  /** The current socket's `readyState` (undefined before the first one is ready). */
  get readyState() {
    return this.#socket?.readyState;
  }

  /** Whether the notification `id` has arrived. */
  has(id) {
    return this.#seen.has(id);
  }

  async #connect() {
    for (let attempt = 0; !this.#stopped; attempt++) {
      const socket = this.#openSocket();
      if (await this.#ready(socket)) {
        this.#socket = socket;
        socket.once('close', (code, reason) => {
          this.closes.push({ code, reason: reason.toString() });
          this.#wake();
          if (!this.#stopped) this.#connecting = this.#connect();
        });
        return;
      }
      // Refused, dropped or closed before ready (a gateway going down): try again shortly.
      socket.terminate();
      await sleep(Math.min(50 * 2 ** attempt, 1000));
    }
  }

  #openSocket() {
    const url = new URL(this.target());
    url.searchParams.set('token', this.token);
    if (this.#lastId) url.searchParams.set('since', this.#lastId);
    const socket = new WebSocket(url, { perMessageDeflate: false });
    socket.on('message', (raw) =>
      this.#onFrame(JSON.parse(/** @type {Buffer} */ (raw).toString())),
    );
    socket.on('error', () => undefined);
    return socket;
  }

  /** Resolves true on `ready` within 10 s, false when the socket closes or the time runs out. */
  #ready(socket) {
    return new Promise((resolve) => {
      const done = (ok) => {
        clearTimeout(timer);
        socket.off('message', onMessage);
        socket.off('close', onClose);
        resolve(ok);
      };
      const onMessage = (raw) =>
        JSON.parse(/** @type {Buffer} */ (raw).toString()).event === 'ready' && done(true);
      const onClose = () => done(false);
      const timer = setTimeout(() => done(false), 10_000);
      socket.on('message', onMessage);
      socket.once('close', onClose);
    });
  }

  #onFrame(frame) {
    if (frame.event === 'ready') {
      if (frame.data.truncated) this.truncations++;
      this.#lastId = frame.data.cursor;
    }
    if (frame.event !== 'notification') return;
    const id = frame.data.notification.id;
    if (this.#seen.has(id)) {
      this.duplicates++;
      return;
    }
    const last = this.received.at(-1);
    if (last && parseNotificationId(id).seq < parseNotificationId(last).seq) this.reordered++;
    this.#seen.add(id);
    this.received.push(id);
    this.#lastId = id;
    this.onNotification?.(frame.data.notification);
    this.#wake();
  }

  #wake() {
    for (const wake of this.#waiters) wake();
  }

  /** Drops the socket, as a flaky network or a refresh would; the tab resumes by itself. */
  drop() {
    this.#socket?.terminate();
  }

  /** Waits until it has received `count` notifications (or the timeout passes). */
  async waitFor(count, timeoutMs = 30_000) {
    if (this.received.length >= count) return;
    await new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const check = () => this.received.length >= count && done();
      const timer = setTimeout(done, timeoutMs);
      this.#waiters.add(check);
    });
  }

  async close() {
    this.#stopped = true;
    await this.#connecting;
    const socket = this.#socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.close();
    await closed;
  }
}
