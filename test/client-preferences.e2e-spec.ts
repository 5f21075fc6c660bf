import { connect, NotificationsHttpError, type NotificationsClient } from '@rtnotify/client';
import WebSocket from 'ws';
import { startTestApp, type TestApp } from './kit/test-app.js';
import { signToken } from './kit/tokens.mjs';

/** The SDK's preference methods against the real routes (`GET` / `PATCH /v1/me/preferences`). */
describe('@rtnotify/client preferences (e2e)', () => {
  let t: TestApp;
  const clients: NotificationsClient[] = [];

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterEach(() => clients.splice(0).forEach((client) => client.close()));
  afterAll(async () => {
    await t.close();
  });

  function client(token: string | (() => Promise<string>)): NotificationsClient {
    const sut = connect({ url: t.wsUrl, token, WebSocket });
    clients.push(sut);
    return sut;
  }

  it('reads and changes the signed-in user’s preferences, from the gateway’s origin', async () => {
    const sut = client(await signToken('sdk-prefs'));

    expect(await sut.getPreferences()).toEqual({ categories: {} });
    expect(
      await sut.updatePreferences({
        categories: { billing: { inApp: false }, social: { fallback: false } },
      }),
    ).toEqual({
      categories: {
        billing: { inApp: false, fallback: true },
        social: { inApp: true, fallback: false },
      },
    });
    expect(await sut.updatePreferences({ categories: { billing: { inApp: true } } })).toEqual({
      categories: { social: { inApp: true, fallback: false } },
    });
    expect(await sut.getPreferences()).toEqual({
      categories: { social: { inApp: true, fallback: false } },
    });
  });

  it("rejects a bad patch with the server's 400 messages and changes nothing", async () => {
    const sut = client(await signToken('sdk-prefs-bad'));

    const error = (await sut
      .updatePreferences({
        categories: { Billing: { inApp: false }, ok: { inApp: 'no' as unknown as boolean } },
      })
      .catch((e: unknown) => e)) as NotificationsHttpError;

    expect(error).toBeInstanceOf(NotificationsHttpError);
    expect(error.status).toBe(400);
    expect(error.messages.join('\n')).toMatch(/"Billing" is not a category/);
    expect(error.messages.join('\n')).toMatch(/categories\.ok\.inApp must be a boolean/);
    expect(error.message).toMatch(/^PATCH \/v1\/me\/preferences: 400 \(categories: "Billing"/);
    expect(await sut.getPreferences()).toEqual({ categories: {} });
  });

  it('asks a token function again after a 401, and says 401 when the token stays refused', async () => {
    const good = await signToken('sdk-prefs-token');
    const bad = await signToken('sdk-prefs-token', { secret: 'not the secret of this service!!' });
    let queued: string[] = [];
    let asked = 0;
    const refreshed = client(async () => (asked++, queued.shift() ?? good));
    await new Promise((resolve) => refreshed.once('ready', resolve));
    // The next token asked for is refused: the request is made again with a fresh one.
    queued = [bad];
    const before = asked;
    expect(await refreshed.getPreferences()).toEqual({ categories: {} });
    expect(asked - before).toBe(2);

    const refused = client(bad);
    await expect(refused.getPreferences()).rejects.toMatchObject({
      name: 'NotificationsHttpError',
      status: 401,
      message: 'GET /v1/me/preferences: 401 (the token was refused)',
    });
  });
});
