import { generateKeyPairSync } from 'node:crypto';
import { http } from './support/http.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { TEST_JWT_SECRET } from './support/tokens.js';
import { TestClient } from './support/ws-client.js';

describe('the demo page and its development endpoints (e2e)', () => {
  describe('outside production', () => {
    let t: TestApp;

    beforeAll(async () => {
      // Dev tokens carry the configured issuer and audience, or they would not verify.
      t = await startTestApp({
        NODE_ENV: 'development',
        JWT_ISSUER: 'https://auth.example',
        JWT_AUDIENCE: 'notifications',
      });
    });
    afterAll(async () => {
      await t.close();
    });

    const devToken = async (name: string): Promise<string> => {
      const { status, body } = await http('POST', `${t.httpUrl}/dev/token`, { body: { name } });
      expect(status).toBe(200);
      expect(body.expiresIn).toBe(3600);
      return body.token as string;
    };

    it('serves the page with a strict content security policy', async () => {
      const response = await fetch(`${t.httpUrl}/`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
      const html = await response.text();
      expect(html).toContain('<script type="module" src="/demo.js"></script>');

      for (const [path, type] of [
        ['/demo.js', /javascript/],
        ['/demo.css', /^text\/css/],
      ] as const) {
        const asset = await fetch(`${t.httpUrl}${path}`);
        expect(asset.status, path).toBe(200);
        expect(asset.headers.get('content-type'), path).toMatch(type);
      }
      expect(await (await fetch(`${t.httpUrl}/demo.js`)).text()).toContain(
        "import { connect } from '/sdk/index.js'",
      );
    });

    it('serves the built SDK as browser modules whose imports resolve under /sdk/', async () => {
      const index = await fetch(`${t.httpUrl}/sdk/index.js`);
      expect(index.status).toBe(200);
      expect(index.headers.get('content-type')).toMatch(/javascript/);
      const source = await index.text();
      const imports = [...source.matchAll(/from '\.\/([^']+)'/g)].map((match) => match[1]);
      expect(imports).toContain('notifications-client.js');
      for (const file of imports) {
        expect((await fetch(`${t.httpUrl}/sdk/${file}`)).status, file).toBe(200);
      }
    });

    it.each(['index.d.ts', '..%2Fpackage.json', '.hidden.js', 'INDEX.JS', 'missing.js'])(
      'refuses /sdk/%s',
      async (file) => {
        expect((await fetch(`${t.httpUrl}/sdk/${file}`)).status).toBe(404);
      },
    );

    it('says the development endpoints are on', async () => {
      expect(await http('GET', `${t.httpUrl}/demo/config`)).toMatchObject({
        status: 200,
        body: { devEndpoints: true },
      });
    });

    it('issues a token for a name that the inbox and the socket accept', async () => {
      const token = await devToken('ada.lovelace');

      expect(await http('GET', `${t.httpUrl}/v1/me/notifications`, { token })).toMatchObject({
        status: 200,
        body: { items: [], unread: 0 },
      });
      const client = await TestClient.ready(t.wsUrl, { token, viaProtocol: true });
      expect(client.all('ready')[0]).toMatchObject({ userId: 'ada.lovelace' });
      await client.close();
    });

    it.each([
      {},
      { name: '' },
      { name: 'a b' },
      { name: 'x'.repeat(65) },
      { name: 'ok', admin: true },
    ])('refuses the token body %j with 400', async (body) => {
      expect((await http('POST', `${t.httpUrl}/dev/token`, { body })).status).toBe(400);
    });

    it('sends the signed-in user a test notification through the queue', async () => {
      const token = await devToken('tester');
      const client = await TestClient.ready(t.wsUrl, { token });

      const sent = await http('POST', `${t.httpUrl}/dev/notify`, {
        token,
        body: { message: 'ping from the page' },
      });

      expect(sent).toMatchObject({ status: 202, body: { jobId: expect.any(String) } });
      expect((await client.next('notification')).notification).toMatchObject({
        type: 'demo.test',
        payload: { message: 'ping from the page' },
      });
      await client.close();
    });

    it('gives the test notification the category asked for, and refuses one it does not offer', async () => {
      const token = await devToken('categorizer');
      const client = await TestClient.ready(t.wsUrl, { token });

      const sent = await http('POST', `${t.httpUrl}/dev/notify`, {
        token,
        body: { category: 'billing' },
      });
      expect(sent.status).toBe(202);
      expect((await client.next('notification')).notification).toMatchObject({
        type: 'demo.test',
        category: 'billing',
      });
      const refused = await http('POST', `${t.httpUrl}/dev/notify`, {
        token,
        body: { category: 'shopping' },
      });
      expect(refused).toMatchObject({
        status: 400,
        body: { message: ['category must be one of: social, billing, system'] },
      });
      await client.close();
    });

    it('refuses the test notification without a valid token', async () => {
      expect((await http('POST', `${t.httpUrl}/dev/notify`, { body: {} })).status).toBe(401);
      expect(
        (await http('POST', `${t.httpUrl}/dev/notify`, { token: 'forged', body: {} })).status,
      ).toBe(401);
    });
  });

  describe.each([
    ['in production', { NODE_ENV: 'production' }, false],
    ['with DEMO=0', { NODE_ENV: 'development', DEMO: '0' }, false],
    ['in production with DEMO=1', { NODE_ENV: 'production', DEMO: '1' }, true],
  ])('%s', (_, env, pageServed) => {
    let t: TestApp;

    beforeAll(async () => {
      t = await startTestApp({ ...env, JWT_SECRET: TEST_JWT_SECRET });
    });
    afterAll(async () => {
      await t.close();
    });

    it(`${pageServed ? 'serves' : 'does not serve'} the page, and never the dev endpoints`, async () => {
      expect((await fetch(`${t.httpUrl}/`)).status).toBe(pageServed ? 200 : 404);
      expect((await fetch(`${t.httpUrl}/sdk/index.js`)).status).toBe(pageServed ? 200 : 404);
      if (pageServed) {
        expect((await http('GET', `${t.httpUrl}/demo/config`)).body).toEqual({
          devEndpoints: false,
        });
      }
      expect((await http('POST', `${t.httpUrl}/dev/token`, { body: { name: 'x' } })).status).toBe(
        404,
      );
      expect((await http('POST', `${t.httpUrl}/dev/notify`, { body: {} })).status).toBe(404);
    });
  });

  it('issues no dev tokens when tokens are verified with a public key', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const t = await startTestApp({
      NODE_ENV: 'development',
      JWT_PUBLIC_KEY: pem,
      JWT_ALGORITHMS: 'ES256',
    });
    try {
      expect((await fetch(`${t.httpUrl}/`)).status).toBe(200);
      expect((await http('GET', `${t.httpUrl}/demo/config`)).body).toEqual({ devEndpoints: false });
      expect((await http('POST', `${t.httpUrl}/dev/token`, { body: { name: 'x' } })).status).toBe(
        404,
      );
    } finally {
      await t.close();
    }
  });
});
