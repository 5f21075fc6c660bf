import { connect, NotificationsClient } from './notifications-client.js';
import type {
  ClientErrorEvent,
  ConnectOptions,
  NotificationEvent,
  StateEvent,
  WebSocketLike,
} from './types.js';

/** Stands in for the browser's WebSocket: the test plays the server. */
class FakeWebSocket implements WebSocketLike {
  static instances: FakeWebSocket[] = [];
  readyState = 0;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  readonly sent: unknown[] = [];
  closedByClient: { code?: number; reason?: string } | undefined;

  constructor(
    readonly url: string,
    readonly protocols?: string | string[],
  ) {
    FakeWebSocket.instances.push(this);
  }

  static get last(): FakeWebSocket {
    const socket = FakeWebSocket.instances.at(-1);
    if (!socket) throw new Error('no socket was opened');
    return socket;
  }

  get query(): URLSearchParams {
    return new URL(this.url).searchParams;
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }

  close(code?: number, reason?: string): void {
    this.closedByClient = { code, reason };
    this.readyState = 3;
  }

  /** The server accepts the socket and replays `replay` before `ready`. */
  accept(ready: Partial<ReadyData> = {}, replay: Notified[] = []): void {
    this.readyState = 1;
    this.onopen?.({});
    for (const item of replay) this.push('notification', item);
    this.push('ready', {
      userId: 'ada',
      unread: 0,
      replayed: replay.length,
      truncated: false,
      cursor: 'e1-0',
      ...ready,
    });
  }

  push(event: string, data: object): void {
    this.onmessage?.({ data: JSON.stringify({ event, data }) });
  }

  /** The server (or the network) closes the socket. */
  drop(code = 1006, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

interface ReadyData {
  userId: string;
  unread: number;
  replayed: number;
  truncated: boolean;
  cursor: string;
  counts?: { unread: number; unseen: number; categories: object };
}

interface Notified {
  notification: { id: string; type: string; payload: object; createdAt: string; read: boolean };
  unread: number;
}

const notified = (id: string, unread = 1): Notified => ({
  notification: {
    id,
    type: 'test.item',
    payload: {},
    createdAt: '2025-01-01T00:00:00Z',
    read: false,
  },
  unread,
});

/** Lets pending promises (token functions, the start microtask) run. */
const settle = () => vi.advanceTimersByTimeAsync(0);

describe(NotificationsClient.name, () => {
  let sut: NotificationsClient;
  let states: StateEvent[];
  let errors: ClientErrorEvent[];
  let notifications: NotificationEvent[];

  function start(options: Partial<ConnectOptions> = {}): NotificationsClient {
    sut = connect({
      url: 'ws://notify.example/ws',
      token: 'jwt-1',
      WebSocket: FakeWebSocket,
      ...options,
    });
    states = [];
    errors = [];
    notifications = [];
    sut.on('state', (event) => states.push(event));
    sut.on('error', (event) => errors.push(event));
    sut.on('notification', (event) => notifications.push(event));
    return sut;
  }

  beforeEach(() => {
    vi.useFakeTimers();
    FakeWebSocket.instances = [];
    // Waits at half their range: attempt n waits exactly min(cap, base * 2^n) / 2.
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
  });

  afterEach(() => {
    sut?.close();
    vi.useRealTimers();
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
  });

  describe('connecting', () => {
    it('sends the token in the bearer subprotocol pair, not in the URL', async () => {
      start();
      await settle();

      expect(FakeWebSocket.instances).toHaveLength(1);
      expect(FakeWebSocket.last.protocols).toEqual(['bearer', 'jwt-1']);
      expect(FakeWebSocket.last.url).toBe('ws://notify.example/ws');
    });

    it('puts the token in the query only when asked to', async () => {
      start({ tokenInUrl: true });
      await settle();

      expect(FakeWebSocket.last.protocols).toBeUndefined();
      expect(FakeWebSocket.last.query.get('token')).toBe('jwt-1');
    });

    it('turns an http URL into ws, and resolves a relative one against the page', async () => {
      vi.stubGlobal('location', { href: 'https://app.example/inbox/' });
      start({ url: '/ws' });
      await settle();

      expect(FakeWebSocket.last.url).toBe('wss://app.example/ws');
    });

    it('resumes from the since option on the first connection', async () => {
      start({ since: 'e1-41' });
      await settle();

      expect(FakeWebSocket.last.query.get('since')).toBe('e1-41');
    });

    it('reports connecting, then open once the server is ready', async () => {
      start();
      const ready = vi.fn();
      sut.on('ready', ready);
      await settle();
      expect(sut.state).toBe('connecting');

      FakeWebSocket.last.accept({ unread: 3, userId: 'ada' });

      expect(states.map((event) => event.state)).toEqual(['connecting', 'open']);
      expect(ready).toHaveBeenCalledWith(expect.objectContaining({ unread: 3, userId: 'ada' }));
      expect(sut.state).toBe('open');
      expect(sut.unread).toBe(3);
      expect(sut.userId).toBe('ada');
    });

    it('throws at once without a WebSocket class', () => {
      vi.stubGlobal('WebSocket', undefined);

      expect(() => connect({ url: 'ws://x/ws', token: 't' })).toThrow(/WebSocket/);
    });

    it.each(['', '/ws', 'ftp://x/ws', 'not a url'])('rejects the url %j outside a page', (url) => {
      expect(() => start({ url })).toThrow(/url must be/);
    });

    it('rejects a backoff whose cap is below its base', () => {
      expect(() => start({ backoff: { baseMs: 5000, capMs: 1000 } })).toThrow(TypeError);
    });
  });

  describe('events', () => {
    it('emits notifications, marking the replayed ones, and unread counts', async () => {
      start();
      const unread = vi.fn();
      sut.on('unread', unread);
      await settle();

      FakeWebSocket.last.accept({ unread: 2, cursor: 'e1-2' }, [
        notified('e1-1'),
        notified('e1-2', 2),
      ]);
      FakeWebSocket.last.push('notification', notified('e1-3', 3));
      FakeWebSocket.last.push('unread', { unread: 0 });

      expect(notifications.map((event) => [event.notification.id, event.replayed])).toEqual([
        ['e1-1', true],
        ['e1-2', true],
        ['e1-3', false],
      ]);
      expect(notifications[2].unread).toBe(3);
      expect(unread).toHaveBeenCalledWith({ unread: 0 });
      expect(sut.unread).toBe(0);
    });

    it('emits truncated after ready when the server cannot prove nothing was missed', async () => {
      start({ since: 'old-7' });
      const order: string[] = [];
      sut.on('ready', () => order.push('ready'));
      sut.on('truncated', (ready) => order.push(`truncated ${ready.cursor}`));
      await settle();

      FakeWebSocket.last.accept({ truncated: true, cursor: 'e2-0' });

      expect(order).toEqual(['ready', 'truncated e2-0']);
      expect(sut.lastId).toBe('e2-0');
    });

    it('reports a rejected frame as a non-fatal error and stays open', async () => {
      start();
      await settle();
      FakeWebSocket.last.accept();

      FakeWebSocket.last.push('error', { code: 'invalid_data', message: 'ids must be an array' });

      expect(errors).toEqual([
        { code: 'invalid_data', message: 'ids must be an array', fatal: false },
      ]);
      expect(sut.state).toBe('open');
    });

    it('ignores frames that are not JSON objects', async () => {
      start();
      await settle();
      FakeWebSocket.last.accept();

      FakeWebSocket.last.onmessage?.({ data: 'not json' });
      FakeWebSocket.last.onmessage?.({ data: '{"event":"notification","data":null}' });
      FakeWebSocket.last.onmessage?.({ data: new Uint8Array([1]) });

      expect(notifications).toEqual([]);
      expect(sut.state).toBe('open');
    });
  });

  describe('reconnecting and resuming', () => {
    it('resumes after the last notification it saw', async () => {
      start({ backoff: { baseMs: 1000, capMs: 30_000 } });
      await settle();
      FakeWebSocket.last.accept({ cursor: 'e1-0' });
      FakeWebSocket.last.push('notification', notified('e1-1'));
      FakeWebSocket.last.push('notification', notified('e1-2'));

      FakeWebSocket.last.drop(1011, 'history reset: resume with since');
      await vi.advanceTimersByTimeAsync(500);

      expect(FakeWebSocket.instances).toHaveLength(2);
      expect(FakeWebSocket.last.query.get('since')).toBe('e1-2');
    });

    it('resumes from ready.cursor when it saw no notification', async () => {
      start();
      await settle();
      FakeWebSocket.last.accept({ cursor: 'e1-9' });

      FakeWebSocket.last.drop(4008, 'slow consumer: resume with since');
      await vi.advanceTimersByTimeAsync(500);

      expect(FakeWebSocket.last.query.get('since')).toBe('e1-9');
    });

    it('drops a notification whose id it has already seen', async () => {
      start();
      await settle();
      FakeWebSocket.last.accept({ cursor: 'e1-0' });
      FakeWebSocket.last.push('notification', notified('e1-1'));
      FakeWebSocket.last.push('notification', notified('e1-1'));
      FakeWebSocket.last.drop(1001, 'server shutting down: reconnect');
      await vi.advanceTimersByTimeAsync(500);

      // A server that replays from further back than asked still yields each id once.
      FakeWebSocket.last.accept({ cursor: 'e1-2' }, [notified('e1-1'), notified('e1-2')]);

      expect(notifications.map((event) => event.notification.id)).toEqual(['e1-1', 'e1-2']);
      expect(sut.lastId).toBe('e1-2');
    });

    it('waits with exponential backoff and full jitter between failed attempts', async () => {
      start({ backoff: { baseMs: 1000, capMs: 3000 } });
      await settle();
      const waits: (number | undefined)[] = [];
      sut.on('state', (event) => event.state === 'closed' && waits.push(event.reconnectInMs));

      for (let attempt = 0; attempt < 4; attempt++) {
        const before = FakeWebSocket.instances.length;
        FakeWebSocket.last.drop(1006);
        const wait = waits.at(-1) ?? 0;
        await vi.advanceTimersByTimeAsync(wait - 1);
        expect(FakeWebSocket.instances).toHaveLength(before);
        await vi.advanceTimersByTimeAsync(1);
        expect(FakeWebSocket.instances).toHaveLength(before + 1);
      }

      // random() = 0.5: half of 1 s, 2 s, then the 3 s cap.
      expect(waits).toEqual([500, 1000, 1500, 1500]);
    });

    it('starts the backoff over after a successful connection', async () => {
      start();
      await settle();
      FakeWebSocket.last.drop(1006);
      await vi.advanceTimersByTimeAsync(500);
      FakeWebSocket.last.drop(1006);
      await vi.advanceTimersByTimeAsync(1000);
      FakeWebSocket.last.accept();

      FakeWebSocket.last.drop(1001);

      expect(states.at(-1)).toMatchObject({ state: 'closed', code: 1001, reconnectInMs: 500 });
    });

    it('asks the token function again before every attempt', async () => {
      let n = 0;
      const token = vi.fn(() => Promise.resolve(`jwt-${++n}`));
      start({ token });
      await settle();
      FakeWebSocket.last.accept();
      FakeWebSocket.last.drop(1001);
      await vi.advanceTimersByTimeAsync(500);

      expect(token).toHaveBeenCalledTimes(2);
      expect(FakeWebSocket.instances.map((socket) => socket.protocols)).toEqual([
        ['bearer', 'jwt-1'],
        ['bearer', 'jwt-2'],
      ]);
    });

    it('retries later when the token function fails, saying why', async () => {
      const token = vi
        .fn<() => Promise<string>>()
        .mockRejectedValueOnce(new Error('auth server down'))
        .mockResolvedValue('jwt-ok');
      start({ token });
      await settle();

      expect(FakeWebSocket.instances).toHaveLength(0);
      expect(errors).toEqual([
        {
          code: 'token_unavailable',
          message: 'the token function failed: auth server down',
          fatal: false,
        },
      ]);
      await vi.advanceTimersByTimeAsync(500);
      expect(FakeWebSocket.last.protocols).toEqual(['bearer', 'jwt-ok']);
    });

    it('cuts the wait short when the network comes back', async () => {
      const page = new EventTarget();
      vi.stubGlobal('addEventListener', page.addEventListener.bind(page));
      vi.stubGlobal('removeEventListener', page.removeEventListener.bind(page));
      vi.stubGlobal('navigator', { onLine: false });
      start({ backoff: { baseMs: 20_000, capMs: 20_000 } });
      await settle();
      FakeWebSocket.last.accept();

      FakeWebSocket.last.drop(1006);
      await vi.advanceTimersByTimeAsync(1000);
      expect(FakeWebSocket.instances).toHaveLength(1);
      vi.stubGlobal('navigator', { onLine: true });
      page.dispatchEvent(new Event('online'));
      await settle();

      expect(FakeWebSocket.instances).toHaveLength(2);
    });

    it('does not try while the browser is offline, and goes as soon as it is back', async () => {
      const page = new EventTarget();
      vi.stubGlobal('addEventListener', page.addEventListener.bind(page));
      vi.stubGlobal('removeEventListener', page.removeEventListener.bind(page));
      vi.stubGlobal('navigator', { onLine: false });
      start({ backoff: { baseMs: 1000, capMs: 30_000 } });
      await settle();
      FakeWebSocket.last.accept();
      FakeWebSocket.last.drop(1006);

      await vi.advanceTimersByTimeAsync(10_000);
      expect(FakeWebSocket.instances).toHaveLength(1);
      page.dispatchEvent(new Event('online'));
      await settle();

      expect(FakeWebSocket.instances).toHaveLength(2);
    });

    it('ignores the online event while connected', async () => {
      const page = new EventTarget();
      vi.stubGlobal('addEventListener', page.addEventListener.bind(page));
      vi.stubGlobal('removeEventListener', page.removeEventListener.bind(page));
      start();
      await settle();
      FakeWebSocket.last.accept();

      page.dispatchEvent(new Event('online'));
      await settle();

      expect(FakeWebSocket.instances).toHaveLength(1);
    });
  });

  describe('refusals', () => {
    it('never reconnects after 4403', async () => {
      start();
      await settle();

      FakeWebSocket.last.drop(4403, 'origin not allowed');
      await vi.advanceTimersByTimeAsync(10 * 60_000);

      expect(FakeWebSocket.instances).toHaveLength(1);
      expect(states.at(-1)).toEqual({
        state: 'closed',
        code: 4403,
        reason: 'origin not allowed',
        final: true,
      });
      expect(errors).toEqual([
        expect.objectContaining({ code: 'origin_not_allowed', fatal: true }),
      ]);
    });

    it('after 4401 asks the token function once more, then stops and reports', async () => {
      const token = vi.fn(() => 'expired-jwt');
      start({ token });
      await settle();

      FakeWebSocket.last.drop(4401, 'token expired');
      await settle();
      expect(token).toHaveBeenCalledTimes(2);
      expect(FakeWebSocket.instances).toHaveLength(2);

      FakeWebSocket.last.drop(4401, 'token expired');
      await vi.advanceTimersByTimeAsync(10 * 60_000);

      expect(token).toHaveBeenCalledTimes(2);
      expect(FakeWebSocket.instances).toHaveLength(2);
      expect(sut.state).toBe('closed');
      expect(states.at(-1)).toMatchObject({ state: 'closed', code: 4401, final: true });
      expect(errors).toEqual([
        {
          code: 'unauthorized',
          message: 'the token was refused: token expired',
          fatal: true,
        },
      ]);
    });

    it('gives the fresh token a full retry budget again once it worked', async () => {
      const token = vi.fn(() => 'jwt');
      start({ token });
      await settle();
      FakeWebSocket.last.drop(4401, 'token expired');
      await settle();
      FakeWebSocket.last.accept();

      FakeWebSocket.last.drop(4401, 'token expired');
      await settle();

      expect(token).toHaveBeenCalledTimes(3);
      expect(sut.state).toBe('connecting');
    });

    it('treats an upgrade refused with 401 (as ws reports it) like 4401', async () => {
      const token = vi.fn(() => 'refused-jwt');
      start({ token });
      await settle();

      for (let attempt = 0; attempt < 2; attempt++) {
        FakeWebSocket.last.onerror?.({ message: 'Unexpected server response: 401' });
        FakeWebSocket.last.drop(1006);
        await settle();
      }
      await vi.advanceTimersByTimeAsync(10 * 60_000);

      expect(token).toHaveBeenCalledTimes(2);
      expect(FakeWebSocket.instances).toHaveLength(2);
      expect(states.at(-1)).toEqual({
        state: 'closed',
        code: 4401,
        reason: 'upgrade refused (HTTP 401)',
        final: true,
      });
      expect(errors).toEqual([expect.objectContaining({ code: 'unauthorized', fatal: true })]);
    });

    it('treats an upgrade refused with 403 like 4403', async () => {
      start();
      await settle();

      FakeWebSocket.last.onerror?.({ message: 'Unexpected server response: 403' });
      FakeWebSocket.last.drop(1006);
      await vi.advanceTimersByTimeAsync(10 * 60_000);

      expect(FakeWebSocket.instances).toHaveLength(1);
      expect(states.at(-1)).toMatchObject({ state: 'closed', code: 4403, final: true });
    });

    it('retries with backoff after a refusal it cannot see (a browser reports only 1006)', async () => {
      const token = vi.fn(() => 'jwt');
      start({ token, backoff: { baseMs: 1000, capMs: 1000 } });
      await settle();

      FakeWebSocket.last.onerror?.({ type: 'error' });
      FakeWebSocket.last.drop(1006);
      await vi.advanceTimersByTimeAsync(1000);

      expect(FakeWebSocket.instances).toHaveLength(2);
      expect(token).toHaveBeenCalledTimes(2);
      expect(errors).toEqual([]);
    });

    it('stops at once after 4401 with a fixed token string', async () => {
      start({ token: 'fixed' });
      await settle();

      FakeWebSocket.last.drop(4401, 'token signature invalid');
      await vi.advanceTimersByTimeAsync(60_000);

      expect(FakeWebSocket.instances).toHaveLength(1);
      expect(errors).toEqual([expect.objectContaining({ code: 'unauthorized', fatal: true })]);
    });
  });

  describe('marking read', () => {
    it('sends read frames while open', async () => {
      start();
      await settle();
      FakeWebSocket.last.accept();

      sut.markRead(['e1-1', 'e1-2']);
      sut.markAllRead();
      sut.markRead([]);

      expect(FakeWebSocket.last.sent).toEqual([
        { event: 'read', data: { ids: ['e1-1', 'e1-2'] } },
        { event: 'read', data: { all: true } },
      ]);
    });

    it('keeps reads made while disconnected and sends them once ready', async () => {
      start();
      await settle();
      sut.markRead(['e1-1']);
      sut.markRead(['e1-2', 'e1-1']);
      expect(FakeWebSocket.last.sent).toEqual([]);

      FakeWebSocket.last.accept();

      expect(FakeWebSocket.last.sent).toEqual([{ event: 'read', data: { ids: ['e1-1', 'e1-2'] } }]);
    });

    it('lets mark-all-read supersede pending ids', async () => {
      start();
      await settle();
      sut.markRead(['e1-1']);
      sut.markAllRead();

      FakeWebSocket.last.accept();

      expect(FakeWebSocket.last.sent).toEqual([{ event: 'read', data: { all: true } }]);
    });

    it('splits many ids into frames the server accepts', async () => {
      start();
      await settle();
      FakeWebSocket.last.accept();

      sut.markRead(Array.from({ length: 2500 }, (_, n) => `e1-${n + 1}`));

      expect(
        FakeWebSocket.last.sent.map(
          (frame) => (frame as { data: { ids: string[] } }).data.ids.length,
        ),
      ).toEqual([1000, 1000, 500]);
    });
  });

  describe('protocol 1.1: marks and counts', () => {
    const counts = (unread: number, unseen: number, categories = {}) => ({
      unread,
      unseen,
      categories,
    });

    it('sends mark frames for each helper, in order, splitting many ids', async () => {
      start();
      await settle();
      FakeWebSocket.last.accept();

      sut.archive(['e1-1']);
      sut.unarchive(['e1-1']);
      sut.markSeen(['e1-2']);
      sut.markUnread(['e1-2']);
      sut.markAllSeen();
      sut.markAllSeen('billing');
      sut.archiveAllRead();
      sut.archiveAllRead('social');
      sut.mark({ as: 'read', ids: [] });
      sut.mark({ as: 'read', ids: Array.from({ length: 1001 }, (_, n) => `e1-${n + 1}`) });

      const sent = FakeWebSocket.last.sent as { event: string; data: { ids?: string[] } }[];
      expect(sent.slice(0, 8)).toEqual([
        { event: 'mark', data: { as: 'archived', ids: ['e1-1'] } },
        { event: 'mark', data: { as: 'unarchived', ids: ['e1-1'] } },
        { event: 'mark', data: { as: 'seen', ids: ['e1-2'] } },
        { event: 'mark', data: { as: 'unread', ids: ['e1-2'] } },
        { event: 'mark', data: { as: 'seen', all: true } },
        { event: 'mark', data: { as: 'seen', all: true, category: 'billing' } },
        { event: 'mark', data: { as: 'archived', all: true, onlyRead: true } },
        { event: 'mark', data: { as: 'archived', all: true, onlyRead: true, category: 'social' } },
      ]);
      expect(sent.slice(8).map((frame) => frame.data.ids?.length)).toEqual([1000, 1]);
    });

    it('keeps marks and reads made while disconnected and sends them in order once ready', async () => {
      start();
      await settle();
      sut.markRead(['e1-1']);
      sut.archive(['e1-1']);
      sut.markRead(['e1-2']);
      expect(FakeWebSocket.last.sent).toEqual([]);

      FakeWebSocket.last.accept();

      expect(FakeWebSocket.last.sent).toEqual([
        { event: 'read', data: { ids: ['e1-1'] } },
        { event: 'mark', data: { as: 'archived', ids: ['e1-1'] } },
        { event: 'read', data: { ids: ['e1-2'] } },
      ]);
    });

    it('keeps the counts of ready, notification, marked and removed, and emits them', async () => {
      start();
      const seen: unknown[] = [];
      const marked: unknown[] = [];
      const removed: unknown[] = [];
      sut.on('counts', (event) => seen.push(event));
      sut.on('marked', (event) => marked.push(event));
      sut.on('removed', (event) => removed.push(event));
      await settle();
      expect(sut.counts).toBeUndefined();
      expect(sut.countsOf('billing')).toEqual({ unread: 0, unseen: 0 });

      FakeWebSocket.last.accept({ unread: 1, counts: counts(1, 1) } as Partial<ReadyData>);
      FakeWebSocket.last.push('notification', {
        ...notified('e1-2', 2),
        counts: counts(2, 2, { billing: { unread: 1, unseen: 1 } }),
      });
      FakeWebSocket.last.push('marked', { as: 'seen', all: true, counts: counts(2, 0) });
      FakeWebSocket.last.push('removed', {
        ids: ['e1-2'],
        reason: 'expired',
        counts: counts(1, 0),
      });

      expect(seen).toEqual([
        counts(1, 1),
        counts(2, 2, { billing: { unread: 1, unseen: 1 } }),
        counts(2, 0),
        counts(1, 0),
      ]);
      expect(notifications[0].counts).toEqual(counts(2, 2, { billing: { unread: 1, unseen: 1 } }));
      expect(marked).toEqual([{ as: 'seen', all: true, counts: counts(2, 0) }]);
      expect(removed).toEqual([{ ids: ['e1-2'], reason: 'expired', counts: counts(1, 0) }]);
      expect({ unread: sut.unread, unseen: sut.unseen }).toEqual({ unread: 1, unseen: 0 });
    });

    it('works with a v1 server: no counts, the unread count only', async () => {
      start();
      const seen: unknown[] = [];
      sut.on('counts', (event) => seen.push(event));
      await settle();
      FakeWebSocket.last.accept({ unread: 3 });
      FakeWebSocket.last.push('notification', notified('e1-4', 4));

      expect(seen).toEqual([]);
      expect(sut.counts).toBeUndefined();
      expect(sut.unread).toBe(4);
      expect(notifications[0]).not.toHaveProperty('counts');
    });

    it('drops marks not sent yet when closed', async () => {
      start();
      await settle();
      const socket = FakeWebSocket.last;
      sut.archive(['e1-1']);
      sut.close();

      expect(socket.sent).toEqual([]);
    });
  });

  describe('close', () => {
    it('closes the socket with 1000 and never reconnects', async () => {
      start();
      await settle();
      FakeWebSocket.last.accept();
      const socket = FakeWebSocket.last;

      sut.close();
      socket.drop(1000);
      await vi.advanceTimersByTimeAsync(60_000);

      expect(socket.closedByClient).toEqual({ code: 1000, reason: 'client closed' });
      expect(FakeWebSocket.instances).toHaveLength(1);
      expect(states.at(-1)).toMatchObject({ state: 'closed', final: true });
    });

    it('cancels a pending reconnect', async () => {
      start();
      await settle();
      FakeWebSocket.last.drop(1006);

      sut.close();
      await vi.advanceTimersByTimeAsync(60_000);

      expect(FakeWebSocket.instances).toHaveLength(1);
    });

    it('opens nothing when closed while the token is being fetched', async () => {
      let release: (token: string) => void = () => undefined;
      start({ token: () => new Promise<string>((resolve) => (release = resolve)) });
      await settle();

      sut.close();
      release('late-jwt');
      await settle();

      expect(FakeWebSocket.instances).toHaveLength(0);
    });

    it('removes its online listener', async () => {
      const page = new EventTarget();
      const remove = vi.fn(page.removeEventListener.bind(page));
      vi.stubGlobal('addEventListener', page.addEventListener.bind(page));
      vi.stubGlobal('removeEventListener', remove);
      start();
      await settle();

      sut.close();

      expect(remove).toHaveBeenCalledWith('online', expect.any(Function));
    });
  });
});
