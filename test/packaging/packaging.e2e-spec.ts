import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join, relative } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { inject } from 'vitest';
import WebSocket from 'ws';
import { freePort } from '../kit/processes.mjs';
import { launchChromium } from '../kit/browser.js';
import { http } from '../kit/http.mjs';
import { HostProcess, NodeClient, PackagedHost, type StepResult } from './packaged-host.js';

/**
 * The packages as a user meets them: `npm pack` of the three, installed with the registry's
 * Nest 12, BullMQ and friends into a host application that lives in a temporary folder
 * (fixtures/host: its own package.json and tsconfig, no path aliases, no way to the repository's
 * sources), type-checked, built, bundled and started; then each way in delivers end to end.
 */

const SOCKET_PATH = '/live/notifications';
const PREFIX = 'api';
const JWT_SECRET = randomBytes(32).toString('hex');
const API_KEY = randomBytes(16).toString('hex');

const PACKAGE_NAMES = ['@rtnotify/protocol', '@rtnotify/client', '@rtnotify/nestjs'];

/** Installing and building take a while on a loaded machine; each step has its own bound. */
const SETUP_TIMEOUT_MS = 900_000;

describe('the packages installed from their tarballs into a new Nest host (e2e)', () => {
  let host: PackagedHost;
  let browser: Browser | undefined;
  let install: StepResult;

  beforeAll(async () => {
    host = await PackagedHost.create();
    install = await host.npm('npm install (tarballs + registry)', ['install']);
    // Independent, so side by side: the checks and the host's own build (`tsc`, noEmitOnError).
    await Promise.all([
      host.node('type-check (host + @rtnotify/* declarations)', ['typecheck.mjs']),
      host.bin('type-check of the page (DOM, bundler resolution)', 'tsc', ['-p', 'page']),
      host.bin('build (tsc)', 'tsc', []),
    ]);
    await host.bin('bundle the page (esbuild)', 'esbuild', [
      'page/main.ts',
      '--bundle',
      '--format=esm',
      '--platform=browser',
      '--target=es2022',
      '--outfile=public/page.js',
    ]);
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    await host?.remove();
  }, 120_000);

  it('installs the three packages with one copy of each peer, every range satisfied', async () => {
    // No peer conflict for npm to resolve, and no warning about the packages themselves.
    expect(install.output).not.toMatch(/ERESOLVE|conflicting peer/i);
    expect(install.output.split('\n').filter((line) => /warn.*@rtnotify/i.test(line))).toEqual([]);
    // npm ls fails on a missing, invalid or extraneous dependency, peers included.
    await host.npm('npm ls', ['ls', '--all'], 120_000);
    for (const name of PACKAGE_NAMES) {
      expect(manifest(host, name).version, name).toBe('0.2.0');
    }
    expect(Object.keys(manifest(host, '@rtnotify/client').dependencies ?? {})).toEqual([
      '@rtnotify/protocol',
    ]);
    // The peers are the host's own: no second copy under the package.
    const peers = Object.keys(manifest(host, '@rtnotify/nestjs').peerDependencies ?? {});
    expect(peers).toEqual(expect.arrayContaining(['@nestjs/core', 'bullmq', 'ws']));
    for (const peer of peers) {
      const nested = host.path('node_modules/@rtnotify/nestjs/node_modules', peer);
      expect(existsSync(nested), `a second ${peer}`).toBe(false);
    }
  });

  it('packs only built modules, each importing nothing its package does not declare', () => {
    for (const name of PACKAGE_NAMES) {
      const root = host.path('node_modules', name);
      const files = readdirSync(root, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => relative(root, join(entry.parentPath, entry.name)));
      const others = files.filter((file) => !/^dist\/.+\.(js|d\.ts)$/.test(file));
      expect(others.sort(), name).toEqual(['LICENSE', 'README.md', 'package.json']);
      expect(
        files.filter((file) => file.includes('.spec.')),
        name,
      ).toEqual([]);

      const { dependencies = {}, peerDependencies = {} } = manifest(host, name);
      const declared = new Set([...Object.keys(dependencies), ...Object.keys(peerDependencies)]);
      const undeclared = new Set<string>();
      for (const file of files.filter((f) => f.startsWith('dist/'))) {
        for (const specifier of importedModules(readFileSync(join(root, file), 'utf8'))) {
          if (specifier.startsWith('.') || isBuiltin(specifier)) continue;
          const pkg = specifier
            .split('/')
            .slice(0, specifier.startsWith('@') ? 2 : 1)
            .join('/');
          if (!declared.has(pkg)) undeclared.add(`${pkg} (${file})`);
        }
      }
      expect([...undeclared], `${name} imports undeclared packages`).toEqual([]);
    }
  });

  it('loads from CommonJS too (require of ES modules, Node >= 20.19)', async () => {
    const { stdout } = await host.node('require() from CommonJS', [
      '--input-type=commonjs',
      '-e',
      `const names = ${JSON.stringify(PACKAGE_NAMES)};
       console.log(JSON.stringify(names.map((name) => Object.keys(require(name)).length)));`,
    ]);
    const exported = JSON.parse(stdout.trim().split('\n').pop() ?? '[]') as number[];
    expect(exported).toHaveLength(3);
    for (const count of exported) expect(count).toBeGreaterThan(0);
  });

  describe.each(['express', 'fastify'] as const)('on %s', (platform) => {
    let app: RunningHost;
    let baseUrl: string;

    beforeAll(async () => {
      app = await RunningHost.start(host, platform);
      baseUrl = app.baseUrl;
    }, 120_000);

    afterAll(() => app?.stop());

    it("a service of the host's own module injects NotificationService; the installed client gets each notification with the unread count", async () => {
      const alice = await app.nodeClient('alice');
      expect(alice.events[0]).toEqual({
        event: 'started',
        webSocket: hasGlobalWebSocket ? 'global' : 'ws',
      });
      const first = await app.comment('alice', 'first!');
      const second = await app.comment('alice', 'second');
      for (const [commentId, unread] of [
        [first, 1],
        [second, 2],
      ] as const) {
        const line = await alice.next(
          `the notification of comment ${commentId}`,
          (l) => l.event === 'notification' && l.notification.payload.commentId === commentId,
        );
        expect(line).toMatchObject({
          unread,
          replayed: false,
          notification: { type: 'comment.created', read: false, payload: { postId: 'p1' } },
        });
      }
    });

    it('delivers a job that a plain bullmq Queue of the host adds by the job contract', async () => {
      const bob = await app.nodeClient('bob');
      await app.produce('bob', 'digest.ready', 'your weekly digest');
      const line = await bob.next('the queued job', (l) => l.event === 'notification');
      expect(line).toMatchObject({
        unread: 1,
        notification: { type: 'digest.ready', payload: { text: 'your weekly digest' } },
      });
    });

    it(`serves the opt-in HTTP publish and inbox, and guards the host's own routes, under the global prefix /${PREFIX}; the socket on ${SOCKET_PATH}`, async () => {
      const user = app.userId('carol');
      const carol = await app.nodeClient('carol');
      const auth = { headers: { authorization: `Bearer ${API_KEY}` } };
      const url = `${baseUrl}/${PREFIX}/v1/notifications`;

      const published = await http('POST', url, {
        ...auth,
        body: { userId: user, type: 'invoice.paid' },
      });
      expect(published.status, JSON.stringify(published.body)).toBe(202);
      expect(published.body).toEqual({ jobId: expect.any(String) });
      const delivered = await carol.next(
        'the published notification',
        (l) => l.event === 'notification',
      );
      expect(delivered).toMatchObject({ unread: 1, notification: { type: 'invoice.paid' } });

      // The library's errors on the host's platform: a 400 naming the fields, a 401 without a key.
      const invalid = await http('POST', url, {
        ...auth,
        body: { userId: user, type: 'Bad Type!', extra: 1 },
      });
      expect(invalid.status).toBe(400);
      expect(invalid.body).toMatchObject({ statusCode: 400, fields: ['extra', 'type'] });
      const anonymous = await http('POST', url, { body: { userId: user, type: 'invoice.paid' } });
      expect(anonymous.status).toBe(401);

      const token = await app.tokenOf('carol');
      const inbox = await http('GET', `${baseUrl}/${PREFIX}/v1/me/notifications?limit=10`, {
        token,
      });
      expect(inbox.status).toBe(200);
      expect(inbox.body).toMatchObject({
        unread: 1,
        items: [{ id: delivered.notification.id, type: 'invoice.paid', read: false }],
      });
      const badQuery = await http('GET', `${baseUrl}/${PREFIX}/v1/me/notifications?limit=0`, {
        token,
      });
      expect(badQuery.status).toBe(400);
      // The library's guard, decorator and InboxService on a route of the host's own.
      const badge = await http('GET', `${baseUrl}/${PREFIX}/me/badge`, { token });
      expect(badge).toEqual({ status: 200, body: { userId: user, unread: 1 } });
      expect((await http('GET', `${baseUrl}/${PREFIX}/me/badge`)).status).toBe(401);

      const read = await http('POST', `${baseUrl}/${PREFIX}/v1/me/notifications/read`, {
        token,
        body: { all: true },
      });
      expect(read).toEqual({ status: 200, body: { unread: 0 } });
      await carol.next(
        'the unread count after reading',
        (l) => l.event === 'unread' && l.unread === 0,
      );

      // A library error on a route of the host's own is a 400 too (the module's global filter).
      const mention = await http('POST', `${baseUrl}/${PREFIX}/posts/p1/mentions`, {
        body: { authorId: 'zoe', userIds: [] },
      });
      expect(mention.status).toBe(400);
      expect(mention.body).toMatchObject({ statusCode: 400, fields: ['userIds'] });

      // Nothing answers outside the prefix, and the default socket path is not served.
      expect((await http('GET', `${baseUrl}/v1/me/notifications`, { token })).status).toBe(404);
      expect(await socketOpens(`${baseUrl.replace('http', 'ws')}/ws`, token)).toBe(false);
    });

    it('a page bundled by esbuild from the installed client shows a delivered notification in Chromium', async () => {
      browser ??= await launchChromium();
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        const errors: string[] = [];
        page.on('pageerror', (error) => errors.push(error.message));
        const user = app.userId('dave');
        await page.goto(`${baseUrl}/${PREFIX}/demo?user=${user}`);
        await waitForSelector(page, 'body[data-state="open"]');
        await waitForSelector(page, '#badge[data-count="0"]');

        const commentId = await app.comment('dave', 'seen in a browser');
        const item = page.locator('#list li[data-type="comment.created"]');
        await item.waitFor({ state: 'visible', timeout: 20_000 });
        expect(await item.textContent()).toContain(commentId);
        await waitForSelector(page, '#badge[data-count="1"]');
        expect(errors).toEqual([]);
      } finally {
        await context.close();
      }
    });

    it('closes on SIGTERM and then exits by itself: the library leaves nothing open', async () => {
      const exit = await app.stop();
      expect(exit, app.process.output()).toEqual({ code: 0, signal: null });
      expect(app.process.output()).toContain('host closed');
    });
  });

  describe('with bullmq 6 (the peer range is ^5.0.0 || ^6.0.0)', () => {
    let app: RunningHost;

    beforeAll(async () => {
      await host.npm('npm install bullmq@6', ['install', 'bullmq@^6.0.0']);
      await host.npm('npm ls with bullmq 6', ['ls', '--all'], 120_000);
      await host.node('type-check with bullmq 6', ['typecheck.mjs']);
      app = await RunningHost.start(host, 'express');
    }, SETUP_TIMEOUT_MS);

    afterAll(() => app?.stop());

    it('type-checks, and delivers from NotificationService and from a plain Queue', async () => {
      expect(manifest(host, 'bullmq').version).toMatch(/^6\./);
      const erin = await app.nodeClient('erin');
      const commentId = await app.comment('erin', 'on bullmq 6');
      await app.produce('erin', 'digest.ready', 'queued on bullmq 6');
      const fromService = await erin.next(
        'the comment',
        (l) => l.event === 'notification' && l.notification.type === 'comment.created',
      );
      expect(fromService.notification.payload.commentId).toBe(commentId);
      const fromQueue = await erin.next(
        'the queued job',
        (l) => l.event === 'notification' && l.notification.type === 'digest.ready',
      );
      expect([fromService.unread, fromQueue.unread].sort((a, b) => a - b)).toEqual([1, 2]);
      expect(await app.stop()).toEqual({ code: 0, signal: null });
    });
  });
});

interface Manifest {
  version: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

function manifest(host: PackagedHost, name: string): Manifest {
  return JSON.parse(
    readFileSync(host.path('node_modules', name, 'package.json'), 'utf8'),
  ) as Manifest;
}

/** The modules a built file imports: static, re-exported, side-effect and `import()` type refs. */
function importedModules(source: string): string[] {
  const patterns = [
    /^\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((match) => match[1]));
}

const hasGlobalWebSocket = typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'function';

/** The built host running as its own process on a free port, with its own queue and key prefix. */
class RunningHost {
  private readonly clients: NodeClient[] = [];

  private constructor(
    private readonly host: PackagedHost,
    readonly process: HostProcess,
    readonly baseUrl: string,
    private readonly env: Record<string, string>,
    private readonly id: string,
  ) {}

  static async start(host: PackagedHost, platform: 'express' | 'fastify'): Promise<RunningHost> {
    const id = randomBytes(4).toString('hex');
    const port = await freePort();
    const env = {
      HTTP_PLATFORM: platform,
      PORT: String(port),
      REDIS_URL: inject('redisUrl'),
      JWT_SECRET,
      API_KEY,
      KEY_PREFIX: `pk${id}`,
      QUEUE_NAME: `packaging-${id}`,
    };
    const child = HostProcess.spawn(host, ['dist/main.js'], env);
    try {
      await child.waitForOutput(`host (${platform}) listening`, 90_000);
    } catch (error) {
      await child.stop(5_000);
      throw error;
    }
    return new RunningHost(host, child, `http://127.0.0.1:${port}`, env, id);
  }

  /** User names get this host's id, so hosts never share a user's history. */
  userId(name: string): string {
    return `${name}-${this.id}`;
  }

  private tokenUrl(name: string): string {
    return `${this.baseUrl}/${PREFIX}/session/token?user=${this.userId(name)}`;
  }

  /** A Node client of the host, signed in through the host's session route, once it is ready. */
  async nodeClient(name: string): Promise<NodeClient> {
    const socketUrl = `${this.baseUrl.replace('http', 'ws')}${SOCKET_PATH}`;
    const client = NodeClient.connect(this.host, socketUrl, this.tokenUrl(name));
    this.clients.push(client);
    const ready = await client.next('ready', (line) => line.event === 'ready');
    expect(ready).toMatchObject({ userId: this.userId(name), unread: 0 });
    return client;
  }

  /** A token from the host's own sign-in route (NotificationTokenIssuer). */
  async tokenOf(name: string): Promise<string> {
    const { status, body } = await http('GET', this.tokenUrl(name));
    expect(status).toBe(200);
    return (body as { token: string }).token;
  }

  /** A comment on a post of `name`: the host's CommentsService notifies them. */
  async comment(name: string, text: string): Promise<string> {
    const { status, body } = await http('POST', `${this.baseUrl}/${PREFIX}/posts/p1/comments`, {
      body: { authorId: 'zoe', postAuthorId: this.userId(name), text },
    });
    expect(status, JSON.stringify(body)).toBe(201);
    return (body as { commentId: string }).commentId;
  }

  /** The host's producer script: a plain bullmq Queue adds a `notify` job. */
  async produce(name: string, type: string, text: string): Promise<void> {
    const { output } = await this.host.node(
      'produce (bullmq Queue)',
      ['dist/produce.js', this.userId(name), type, text],
      60_000,
      this.env,
    );
    expect(output).toMatch(/"jobId":"\d+"/);
  }

  async stop(): ReturnType<HostProcess['stop']> {
    await Promise.all(this.clients.splice(0).map((client) => client.stop()));
    return this.process.stop();
  }
}

async function waitForSelector(page: Page, selector: string): Promise<void> {
  await page.locator(selector).waitFor({ state: 'attached', timeout: 20_000 });
}

/** Whether a socket with a token opens at `url` (false when the server refuses the upgrade). */
async function socketOpens(url: string, token: string): Promise<boolean> {
  const socket = new WebSocket(url, ['bearer', token]);
  try {
    return await new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer from ${url} in 10 s`)), 10_000);
      const settle = (opened: boolean) => {
        clearTimeout(timer);
        resolve(opened);
      };
      socket.once('open', () => settle(true));
      socket.once('unexpected-response', () => settle(false));
      socket.once('error', () => settle(false));
      socket.once('close', () => settle(false));
    });
  } finally {
    socket.terminate();
  }
}
