import { InvalidPreferencesError, PreferencesService } from '@rtnotify/nestjs';
import { http } from './kit/http.mjs';
import { startTestApp, type TestApp } from './kit/test-app.js';
import { useGatewayOnOwnRedis } from './kit/own-redis-gateway.js';
import { eventually } from './kit/timing.mjs';
import { signToken } from './kit/tokens.mjs';

/** GET / PATCH /v1/me/preferences: the user's in-app and fallback switches per category. */
describe('preferences (e2e)', () => {
  let t: TestApp;

  const api = async (userId: string, method: string, body?: unknown) =>
    http(method, `${t.httpUrl}/v1/me/preferences`, { token: await signToken(userId), body });

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('starts empty (every category on) and answers the whole preferences after each change', async () => {
    expect(await api('prefs-a', 'GET')).toEqual({ status: 200, body: { categories: {} } });

    const first = await api('prefs-a', 'PATCH', {
      categories: { billing: { inApp: false }, social: { fallback: false } },
    });
    expect(first).toEqual({
      status: 200,
      body: {
        categories: {
          billing: { inApp: false, fallback: true },
          social: { inApp: true, fallback: false },
        },
      },
    });

    const second = await api('prefs-a', 'PATCH', {
      categories: { billing: { inApp: true, fallback: false }, social: { fallback: true } },
    });
    expect(second.body).toEqual({ categories: { billing: { inApp: true, fallback: false } } });
    expect((await api('prefs-a', 'GET')).body).toEqual(second.body);
    // Another user's preferences are their own.
    expect((await api('prefs-b', 'GET')).body).toEqual({ categories: {} });
  });

  it.each(['__proto__', 'constructor', 'hasOwnProperty'])(
    'answers 400 to the category name %s (a name Object.prototype has) and changes nothing',
    async (name) => {
      const answer = await api('prefs-c', 'PATCH', {
        categories: JSON.parse(
          `{${JSON.stringify(name)}: {"inApp": false}, "ok": {"inApp": false}}`,
        ),
      });
      expect(answer.status).toBe(400);
      expect(JSON.stringify(answer.body.message)).toMatch(/is reserved|is not a category/);
      expect((await api('prefs-c', 'GET')).body).toEqual({ categories: {} });
    },
  );

  it('takes up to 100 categories at once', async () => {
    const categories = Object.fromEntries(
      Array.from({ length: 100 }, (_, i) => [`c${i}`, { inApp: false }]),
    );
    const answer = await api('prefs-d', 'PATCH', { categories });
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.body.categories)).toHaveLength(100);
  });

  // Found by the black-box review: 30 PATCHes of 100 new categories stored 3000 (640 KB in Redis for
  // one user, in half a second), without bound.
  it('keeps at most 1000 categories with a setting per user, and changes nothing past it', async () => {
    const page = (from: number) =>
      Object.fromEntries(
        Array.from({ length: 100 }, (_, i) => [`cat-${from + i}`, { inApp: false }]),
      );
    for (let from = 0; from < 1000; from += 100) {
      expect((await api('prefs-full', 'PATCH', { categories: page(from) })).status).toBe(200);
    }

    const past = await api('prefs-full', 'PATCH', {
      categories: { 'cat-0': { fallback: false }, 'one-more': { inApp: false } },
    });
    expect(past.status).toBe(400);
    expect(JSON.stringify(past.body.message)).toMatch(/at most 1000 categories may have a setting/);
    const stored = (await api('prefs-full', 'GET')).body.categories;
    expect(Object.keys(stored)).toHaveLength(1000);
    expect(stored['cat-0']).toEqual({ inApp: false, fallback: true });

    // At the bound: a change within the stored categories, and one that frees a place, are taken.
    const within = await api('prefs-full', 'PATCH', {
      categories: { 'cat-0': { fallback: false } },
    });
    expect(within.status).toBe(200);
    const swapped = await api('prefs-full', 'PATCH', {
      categories: { 'cat-0': { inApp: true, fallback: true }, 'one-more': { inApp: false } },
    });
    expect(swapped.status).toBe(200);
    expect(Object.keys(swapped.body.categories)).toHaveLength(1000);
    expect(swapped.body.categories['one-more']).toEqual({ inApp: false, fallback: true });
    expect(swapped.body.categories['cat-0']).toBeUndefined();
  });

  it('answers 401 without a valid token', async () => {
    expect((await http('GET', `${t.httpUrl}/v1/me/preferences`)).status).toBe(401);
    const patch = await http('PATCH', `${t.httpUrl}/v1/me/preferences`, {
      token: 'not-a-jwt',
      body: { categories: {} },
    });
    expect(patch.status).toBe(401);
  });

  it.each([
    ['no categories', {}, /categories must be an object/],
    ['categories as an array', { categories: [] }, /categories must be an object/],
    ['an unknown top-level field', { categories: {}, extra: 1 }, /property extra should not exist/],
    [
      'an unknown setting',
      { categories: { a: { inApp: false, email: false } } },
      /property email should not exist/,
    ],
    [
      'a string for a boolean',
      { categories: { a: { inApp: 'false' } } },
      /categories\.a\.inApp must be a boolean/,
    ],
    [
      'a number for a boolean',
      { categories: { a: { fallback: 0 } } },
      /categories\.a\.fallback must be a boolean/,
    ],
    ['null for a boolean', { categories: { a: { inApp: null } } }, /must be a boolean/],
    [
      'a setting that is not an object',
      { categories: { a: true } },
      /categories\.a must be an object/,
    ],
    ['an empty setting', { categories: { a: {} } }, /must set inApp or fallback/],
    [
      'an upper-case category',
      { categories: { Billing: { inApp: false } } },
      /\\"Billing\\" is not a category/,
    ],
    ['a category with a colon', { categories: { 'a:b': { inApp: false } } }, /is not a category/],
    ['an empty category name', { categories: { '': { inApp: false } } }, /is not a category/],
    [
      'a category of 65 chars',
      { categories: { ['c'.repeat(65)]: { inApp: false } } },
      /is not a category/,
    ],
    [
      '101 categories',
      {
        categories: Object.fromEntries(
          Array.from({ length: 101 }, (_, i) => [`c${i}`, { inApp: false }]),
        ),
      },
      /at most 100 categories/,
    ],
  ])('answers 400 to %s and changes nothing', async (_, body, message) => {
    await api('prefs-bad', 'PATCH', { categories: { kept: { inApp: false } } });

    const answer = await api('prefs-bad', 'PATCH', body);
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.body.message)).toMatch(message);
    expect((await api('prefs-bad', 'GET')).body).toEqual({
      categories: { kept: { inApp: false, fallback: true } },
    });
  });

  it('answers 400 to a body that is not JSON', async () => {
    const answer = await fetch(`${t.httpUrl}/v1/me/preferences`, {
      method: 'PATCH',
      headers: {
        authorization: `Bearer ${await signToken('prefs-bad')}`,
        'content-type': 'application/json',
      },
      body: '{"categories":',
    });
    expect(answer.status).toBe(400);
  });

  it('is injectable: PreferencesService.update answers the same, and refuses bad input with a typed error', async () => {
    const sut = t.app.get(PreferencesService);

    expect(
      await sut.update('prefs-host', { categories: { billing: { fallback: false } } }),
    ).toEqual({
      categories: { billing: { inApp: true, fallback: false } },
    });
    await expect(
      sut.update('prefs-host', { categories: { 'Bad!': { inApp: false } } }),
    ).rejects.toBeInstanceOf(InvalidPreferencesError);
    await expect(
      sut.update('prefs-host', { categories: { a: { inApp: 'no' as unknown as boolean } } }),
    ).rejects.toThrow(/categories\.a\.inApp must be a boolean/);
    expect((await api('prefs-host', 'GET')).body).toEqual({
      categories: { billing: { inApp: true, fallback: false } },
    });
  });
});

// Found by the black-box review: both routes answered 500 (and logged a stack) while Redis was down.
describe('GET / PATCH /v1/me/preferences while Redis is down (e2e)', { timeout: 60_000 }, () => {
  const outage = useGatewayOnOwnRedis();

  it('answers 503 with Retry-After, fast, then 200 once Redis is back', async () => {
    const url = `${outage.gateway.httpUrl}/v1/me/preferences`;
    const token = await signToken('prefs-down');
    const patch = { categories: { billing: { inApp: false } } };
    expect((await http('PATCH', url, { token, body: patch })).status).toBe(200);

    await outage.stopRedis();
    const started = Date.now();
    const answer = await eventually(
      async () => {
        const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
        return response.status === 503 && response;
      },
      10_000,
      'GET 503',
    );
    expect(answer.headers.get('retry-after')).toBe('1');
    expect(await answer.json()).toMatchObject({
      statusCode: 503,
      message: 'notifications unavailable: Redis is unreachable',
    });
    const patched = await http('PATCH', url, { token, body: patch });
    expect(patched.status).toBe(503);
    console.log(`preferences while Redis is down: 503 after ${Date.now() - started} ms`);
    expect(Date.now() - started).toBeLessThan(6000);
    expect(outage.gateway.output()).not.toMatch(/ExceptionsHandler|MaxRetriesPerRequestError/);

    await outage.restartRedis();
    await eventually(
      async () => (await http('PATCH', url, { token, body: patch })).status === 200,
      15_000,
      '200 again',
    );
    expect((await http('GET', url, { token })).body).toEqual({
      categories: { billing: { inApp: false, fallback: true } },
    });
  });
});
