import { http } from './kit/http.mjs';
import { startTestApp, type TestApp } from './kit/test-app.js';
import { signToken } from './kit/tokens.mjs';
import { closeAfterEach, TestClient } from './kit/ws-client.js';

/**
 * A client written against wire protocol v1 only: it knows `ready`, `notification`, `unread` and
 * `error`, sends `read`, and ignores every other event. Protocol 1.1 must leave it working: its
 * unread badge, kept from those three events alone, always ends equal to the server's count.
 */
class V1Client {
  badge = 0;
  readonly items = new Map<string, { type: string; read: boolean }>();
  private applied = 0;

  constructor(readonly socket: TestClient) {}

  /** Applies every v1 frame received since the last call, in order, as a v1 client would. */
  sync(): void {
    const frames = this.socket.frames.slice(this.applied);
    this.applied += frames.length;
    for (const { event, data } of frames) {
      if (event === 'ready') {
        expect(data).toMatchObject({
          userId: expect.any(String),
          unread: expect.any(Number),
          replayed: expect.any(Number),
          truncated: expect.any(Boolean),
          cursor: expect.any(String),
        });
        this.badge = data.unread;
      } else if (event === 'notification') {
        const { notification, unread } = data;
        // The v1 notification object, field by field.
        expect(notification).toMatchObject({
          id: expect.any(String),
          type: expect.any(String),
          payload: expect.any(Object),
          createdAt: expect.any(String),
          read: expect.any(Boolean),
        });
        expect(typeof unread).toBe('number');
        this.items.set(notification.id, { type: notification.type, read: notification.read });
        this.badge = unread;
      } else if (event === 'unread') {
        expect(Object.keys(data)).toEqual(['unread']);
        this.badge = data.unread;
      }
      // Anything else (marked, removed, pong…) is unknown to v1 and ignored.
    }
  }
}

describe('a v1 client against protocol 1.1 (e2e)', () => {
  let t: TestApp;
  const track = closeAfterEach();

  async function socket(userId: string) {
    return track(await TestClient.ready(t.wsUrl, { token: await signToken(userId) }));
  }

  async function serverUnread(userId: string): Promise<number> {
    const { body } = await http('GET', `${t.httpUrl}/v1/me/counts`, {
      token: await signToken(userId),
    });
    return body.unread as number;
  }

  /** Waits for the v1 socket's next frames of these events, then applies all it has. */
  async function after(client: V1Client, ...events: string[]): Promise<void> {
    for (const event of events) await client.socket.next(event, 8000);
    client.sync();
  }

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('keeps the v1 badge right through 1.1 marks, categories, collapse and expiry made elsewhere', async () => {
    const v1 = new V1Client(await socket('mixed'));
    v1.sync();
    expect(v1.badge).toBe(0);
    const modern = await socket('mixed');
    const add = async (data: Record<string, unknown>) => {
      const job = await t.producer.add('notify', { userId: 'mixed', type: 'x', ...data });
      return ((await job.waitUntilFinished(t.queueEvents, 5000)) as { ids: string[] }).ids[0];
    };

    const a = await add({ category: 'billing' });
    const b = await add({ category: 'social', collapseKey: 'thread:1' });
    await add({ category: 'social', collapseKey: 'thread:1' }); // replaces b
    const flash = await add({ expiresAt: new Date(Date.now() + 1500).toISOString() });
    await after(v1, 'notification', 'notification', 'notification', 'notification');
    expect(v1.badge).toBe(3);
    expect(v1.items.has(b)).toBe(true); // a v1 client does not know `replaces`; the badge is right

    // The bell opened in a 1.1 tab: seen moves no unread count, so v1 hears nothing it knows.
    modern.send('mark', { as: 'seen', all: true });
    await after(v1, 'marked');
    expect(v1.badge).toBe(3);

    // Archived (an unread one) in the 1.1 tab: the v1 badge goes down.
    modern.send('mark', { as: 'archived', ids: [a] });
    await after(v1, 'unread');
    expect(v1.badge).toBe(2);

    // Expired while both are open, without anyone reading.
    await after(v1, 'removed', 'unread');
    expect(v1.badge).toBe(1);
    expect(v1.items.has(flash)).toBe(true);

    // The v1 client reads everything itself, the v1 way.
    v1.socket.send('read', { all: true });
    await after(v1, 'unread');
    expect(v1.badge).toBe(0);
    expect(await serverUnread('mixed')).toBe(0);

    // Marked unread while archived, then unarchived, in the 1.1 tab: the v1 badge follows.
    modern.send('mark', { as: 'unread', ids: [a] });
    await after(v1, 'marked');
    expect(v1.badge).toBe(0); // archived ones do not count
    modern.send('mark', { as: 'unarchived', ids: [a] });
    await after(v1, 'unread');
    expect(v1.badge).toBe(1);
    expect(v1.badge).toBe(await serverUnread('mixed'));
  });

  it('answers a v1 read that changes nothing with unread, as v1 did, and sends v1 clients only events they can ignore', async () => {
    const raw = await socket('plain-v1');
    const v1 = new V1Client(raw);
    const job = await t.producer.add('notify', { userId: 'plain-v1', type: 'hello' });
    const [id] = ((await job.waitUntilFinished(t.queueEvents, 5000)) as { ids: string[] }).ids;
    await raw.next('notification');

    raw.send('read', { ids: [id] });
    expect(await raw.next('unread')).toEqual({ unread: 0 });
    raw.send('read', { ids: [id] }); // again: nothing changes, the sender alone is answered
    expect(await raw.next('unread')).toEqual({ unread: 0 });
    raw.send('read', { all: true });
    expect(await raw.next('unread')).toEqual({ unread: 0 });

    const events = new Set(raw.frames.map((frame) => frame.event));
    v1.sync();
    expect(
      [...events].every((event) => ['ready', 'notification', 'unread', 'marked'].includes(event)),
    ).toBe(true);
    expect(v1.badge).toBe(0);
  });
});
