import type { NotificationPreferences } from '@rtnotify/protocol';
import type { FetchLike } from './http-api.js';
import { NotificationsHttpError } from './http-api.js';
import { connect, type NotificationsClient } from './notifications-client.js';
import type { ConnectOptions, WebSocketLike } from './types.js';

/** A socket that never opens: these specs are about the HTTP routes. */
class SilentWebSocket implements WebSocketLike {
  readyState = 0;
  onopen = null;
  onmessage = null;
  onclose = null;
  onerror = null;
  send(): void {}
  close(): void {
    this.readyState = 3;
  }
}

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: unknown;
}

/** Plays the server: answers each request with the next of `answers` (status and JSON body). */
function fakeFetch(...answers: [number, unknown][]) {
  const calls: Call[] = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({
      url,
      method: init.method,
      headers: init.headers,
      ...(init.body === undefined ? {} : { body: JSON.parse(init.body) }),
    });
    const [status, body] = answers.shift() ?? [500, { message: 'no answer left' }];
    return {
      status,
      ok: status >= 200 && status < 300,
      json: async () => {
        if (body === undefined) throw new SyntaxError('Unexpected end of JSON input');
        return body;
      },
    };
  };
  return { fetch, calls };
}

const PREFS: NotificationPreferences = {
  categories: { billing: { inApp: true, fallback: false } },
};

describe('NotificationsClient preferences over HTTP', () => {
  let sut: NotificationsClient;

  function start(options: Partial<ConnectOptions>): NotificationsClient {
    sut = connect({
      url: 'wss://notify.example/ws',
      token: 'jwt-1',
      WebSocket: SilentWebSocket,
      ...options,
    });
    return sut;
  }

  afterEach(() => {
    sut?.close();
    vi.unstubAllGlobals();
  });

  it('reads them with the bearer token from the gateway origin in https', async () => {
    const { fetch, calls } = fakeFetch([200, PREFS]);
    start({ fetch });

    await expect(sut.getPreferences()).resolves.toEqual(PREFS);

    expect(calls).toEqual([
      {
        url: 'https://notify.example/v1/me/preferences',
        method: 'GET',
        headers: { authorization: 'Bearer jwt-1' },
      },
    ]);
  });

  it('sends a patch as JSON and answers the whole preferences', async () => {
    const after = { categories: { ...PREFS.categories, social: { inApp: false, fallback: true } } };
    const { fetch, calls } = fakeFetch([200, after]);
    start({ fetch, apiUrl: 'https://api.example/prefix/' });

    await expect(
      sut.updatePreferences({ categories: { social: { inApp: false } } }),
    ).resolves.toEqual(after);

    expect(calls).toEqual([
      {
        url: 'https://api.example/prefix/v1/me/preferences',
        method: 'PATCH',
        headers: { authorization: 'Bearer jwt-1', 'content-type': 'application/json' },
        body: { categories: { social: { inApp: false } } },
      },
    ]);
  });

  it('resolves apiUrl and the gateway against the page', async () => {
    vi.stubGlobal('location', { href: 'http://app.example:8080/inbox/' });
    const relative = fakeFetch([200, PREFS]);
    start({ url: '/ws', fetch: relative.fetch });
    await sut.getPreferences();
    sut.close();
    const prefixed = fakeFetch([200, PREFS]);
    start({ url: '/ws', apiUrl: '/api', fetch: prefixed.fetch });
    await sut.getPreferences();

    expect(relative.calls[0].url).toBe('http://app.example:8080/v1/me/preferences');
    expect(prefixed.calls[0].url).toBe('http://app.example:8080/api/v1/me/preferences');
  });

  it('uses the global fetch by default', async () => {
    const { fetch, calls } = fakeFetch([200, PREFS]);
    vi.stubGlobal('fetch', fetch);
    start({});

    await sut.getPreferences();

    expect(calls).toHaveLength(1);
  });

  it('asks a token function for every request, and once more after a 401', async () => {
    const token = vi.fn<() => Promise<string>>().mockResolvedValue('for the socket');
    const { fetch, calls } = fakeFetch(
      [401, { message: 'token expired' }],
      [200, PREFS],
      [200, PREFS],
    );
    start({ fetch, token });
    await vi.waitFor(() => expect(token).toHaveBeenCalledTimes(1));
    token.mockResolvedValueOnce('old').mockResolvedValueOnce('fresh').mockResolvedValue('next');

    await expect(sut.getPreferences()).resolves.toEqual(PREFS);
    await sut.getPreferences();

    expect(calls.map((call) => call.headers.authorization)).toEqual([
      'Bearer old',
      'Bearer fresh',
      'Bearer next',
    ]);
  });

  it('fails with 401 after a second refusal, or at once with a fixed token', async () => {
    const refused: [number, unknown] = [401, { statusCode: 401, message: 'Unauthorized' }];
    const twice = fakeFetch(refused, refused, [200, PREFS]);
    start({ fetch: twice.fetch, token: async () => 'jwt' });
    const error = await sut.getPreferences().catch((e: unknown) => e);
    sut.close();
    const fixed = fakeFetch(refused, [200, PREFS]);
    start({ fetch: fixed.fetch });

    expect(error).toBeInstanceOf(NotificationsHttpError);
    expect(error).toMatchObject({
      status: 401,
      message: expect.stringMatching(/token was refused/),
    });
    expect(twice.calls).toHaveLength(2);
    await expect(sut.getPreferences()).rejects.toMatchObject({ status: 401 });
    expect(fixed.calls).toHaveLength(1);
  });

  it("rejects a 400 with the server's messages, in the error and its text", async () => {
    const body = {
      statusCode: 400,
      error: 'Bad Request',
      message: [
        'categories.Billing: a category is 1-64 of [a-z0-9._-]',
        'property x should not exist',
      ],
    };
    const { fetch } = fakeFetch([400, body]);
    start({ fetch });

    const error = (await sut
      .updatePreferences({ categories: { Billing: { inApp: false } } })
      .catch((e: unknown) => e)) as NotificationsHttpError;

    expect(error).toBeInstanceOf(NotificationsHttpError);
    expect(error.status).toBe(400);
    expect(error.messages).toEqual(body.message);
    expect(error.message).toBe(
      'PATCH /v1/me/preferences: 400 (categories.Billing: a category is 1-64 of [a-z0-9._-]; ' +
        'property x should not exist)',
    );
  });

  it('says status 0 when the network fails or no token comes, and a bare status without a body', async () => {
    start({
      fetch: () => Promise.reject(new TypeError('Failed to fetch')),
    });
    await expect(sut.getPreferences()).rejects.toMatchObject({
      status: 0,
      message: 'GET /v1/me/preferences: Failed to fetch',
    });
    sut.close();
    start({ fetch: fakeFetch([200, PREFS]).fetch, token: async () => '' });
    await expect(sut.getPreferences()).rejects.toMatchObject({
      status: 0,
      message: expect.stringMatching(/no token/),
    });
    sut.close();
    start({ fetch: fakeFetch([502, undefined]).fetch });
    await expect(sut.getPreferences()).rejects.toMatchObject({
      status: 502,
      messages: [],
      message: 'GET /v1/me/preferences: 502',
    });
  });

  it('rejects an unusable apiUrl at once, and says when there is no fetch', async () => {
    expect(() => start({ apiUrl: 'ftp://x/' })).toThrow(/apiUrl must be/);
    vi.stubGlobal('fetch', undefined);
    start({});

    await expect(sut.getPreferences()).rejects.toThrow(/no fetch/);
  });
});
