import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { http } from './kit/http.mjs';
import { startTestApp, type TestApp } from './kit/test-app.js';
import { TEST_JWT_SECRET } from './kit/tokens.mjs';
import { TestClient } from './kit/ws-client.js';

const require = createRequire(import.meta.url);
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('the demo page and its development endpoints (e2e)', () => {
  describe('outside production', () => {
    let t: TestApp;

    beforeAll(async () => {
      // Dev tokens carry the configured issuer and audience, or they would not verify. The tests'
      // own JWT_SECRET is an operator's secret: /dev/* needs the opt-in.
      t = await startTestApp({
        NODE_ENV: 'development',
        DEV_TOKENS: '1',
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
      const policy = response.headers.get('content-security-policy') ?? '';
      expect(policy).toContain("default-src 'self'");
      const html = await response.text();
      expect(html).toContain('<script type="module" src="/demo.js"></script>');
      // The one inline script, the import map, is allowed by its hash and nothing else inline is.
      const importMap = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
      const hash = createHash('sha256').update(importMap).digest('base64');
      expect(policy).toMatch(new RegExp(`script-src 'self' 'sha256-${escapeRegExp(hash)}'(;|$)`));
      expect(policy).not.toContain('unsafe-inline');
      expect(JSON.parse(importMap)).toEqual({
        imports: {
          '@rtnotify/client': '/sdk/client/index.js',
          '@rtnotify/protocol': '/sdk/protocol/index.js',
          '@rtnotify/inbox': '/sdk/inbox/rtnotify-inbox.bundle.js',
        },
      });

      for (const [path, type] of [
        ['/', /^text\/html/],
        ['/demo.js', /javascript/],
        ['/demo.css', /^text\/css/],
        ['/sdk/client/index.js', /javascript/],
      ] as const) {
        const asset = await fetch(`${t.httpUrl}${path}`);
        expect(asset.status, path).toBe(200);
        expect(asset.headers.get('content-type'), path).toMatch(type);
        // Every file is checked again on each load and never sniffed as another type.
        expect(asset.headers.get('cache-control'), path).toBe('no-cache');
        expect(asset.headers.get('x-content-type-options'), path).toBe('nosniff');
      }
      expect(await (await fetch(`${t.httpUrl}/demo.js`)).text()).toContain(
        "import { TAG_NAME } from '@rtnotify/inbox'",
      );
      // The component's one-file bundle, as built.
      const bundle = await fetch(`${t.httpUrl}/sdk/inbox/rtnotify-inbox.bundle.js`);
      expect(bundle.status).toBe(200);
      expect(bundle.headers.get('content-type')).toMatch(/javascript/);
      expect(await bundle.text()).toBe(
        readFileSync(
          join(dirname(require.resolve('@rtnotify/inbox')), 'rtnotify-inbox.bundle.js'),
          'utf8',
        ),
      );
    });

    it('serves the client and protocol packages as built, every module import resolvable', async () => {
      const built = (name: string, file: string) =>
        readFileSync(join(dirname(require.resolve(`@rtnotify/${name}`)), file), 'utf8');
      const seen = new Set<string>();
      const visit = async (name: string, file: string): Promise<void> => {
        if (seen.has(`${name}/${file}`)) return;
        seen.add(`${name}/${file}`);
        const response = await fetch(`${t.httpUrl}/sdk/${name}/${file}`);
        expect(response.status, `${name}/${file}`).toBe(200);
        expect(response.headers.get('content-type')).toMatch(/javascript/);
        const source = await response.text();
        expect(source, 'the package build itself').toBe(built(name, file));
        for (const [, bare, relative] of source.matchAll(
          /from '(?:@rtnotify\/([a-z]+)|\.\/([^']+))'/g,
        )) {
          await (bare ? visit(bare, 'index.js') : visit(name, relative));
        }
      };
      await visit('client', 'index.js');
      expect(seen).toContain('client/notifications-client.js');
      expect(seen).toContain('protocol/index.js');
    });

    it.each([
      'client/index.d.ts',
      'client/..%2Fpackage.json',
      'client/.hidden.js',
      'client/INDEX.JS',
      'client/missing.js',
      'client/index.bundle.map.js',
      'inbox/index.d.ts',
      'nestjs/index.js',
      'constructor/index.js',
      'index.js',
    ])('refuses /sdk/%s', async (path) => {
      expect((await fetch(`${t.httpUrl}/sdk/${path}`)).status).toBe(404);
    });

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
      expect((await fetch(`${t.httpUrl}/sdk/client/index.js`)).status).toBe(pageServed ? 200 : 404);
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
