import { parseNotificationId } from '../libs/notifications/src/utils/notification-id.util.js';
import { http } from './support/http.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { signToken } from './support/tokens.js';
import { TestClient } from './support/ws-client.js';

const USERS = 8;
const TABS_PER_USER = 2;
const NOTIFICATIONS = 1200;

/** A deterministic PRNG, so a failing run can be replayed with the same seed. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** A browser tab that drops its socket at random and resumes from the last id it saw. */
class ChurningTab {
  readonly received: string[] = [];
  /** Where to resume from: `ready.cursor`, then the id of each notification received. */
  private lastId: string | undefined;
  duplicates = 0;
  reordered = 0;
  reconnects = 0;
  truncations = 0;
  private client: TestClient | undefined;
  private churning = true;

  constructor(
    private readonly wsUrl: string,
    private readonly token: string,
    private readonly random: () => number,
  ) {}

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = TestClient.connect(this.wsUrl, { token: this.token, since: this.lastId });
    this.client = client;
    client.socket.on('message', (raw) => {
      const frame = JSON.parse((raw as Buffer).toString()) as { event: string; data: any };
      if (frame.event === 'notification') this.record(frame.data.notification.id as string);
      if (frame.event === 'ready') {
        if (frame.data.truncated) this.truncations++;
        this.lastId = frame.data.cursor as string;
      }
    });
    await client.next('ready').catch(async (error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(await client.closed)}`);
    });
    if (this.churning) {
      // Drop the socket after a random while, as a flaky network or a refresh would.
      setTimeout(() => this.drop(client), 5 + this.random() * 120);
    }
  }

  private pending: Promise<void> = Promise.resolve();

  private drop(client: TestClient): void {
    if (!this.churning || client !== this.client) return;
    this.reconnects++;
    this.pending = (async () => {
      await client.close();
      await this.connect();
    })();
  }

  private record(id: string): void {
    if (this.received.includes(id)) {
      this.duplicates++;
      return;
    }
    const last = this.received.at(-1);
    if (last && parseNotificationId(id)!.seq < parseNotificationId(last)!.seq) this.reordered++;
    this.received.push(id);
    this.lastId = id;
  }

  /** Stops churning and makes sure the last socket is live. */
  async settle(): Promise<void> {
    this.churning = false;
    await this.pending;
    if (!this.client || this.client.socket.readyState !== this.client.socket.OPEN)
      await this.connect();
  }

  async waitFor(count: number, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count && Date.now() < deadline) {
      await this.client!.next('notification', Math.max(1, deadline - Date.now())).catch(
        () => undefined,
      );
    }
  }

  async close(): Promise<void> {
    this.churning = false;
    await this.pending;
    await this.client?.close();
  }
}

describe('churn (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ WORKER_CONCURRENCY: '16' });
  });
  afterAll(async () => {
    await t.close();
  });

  it(`${USERS} users x ${TABS_PER_USER} tabs resuming at random while ${NOTIFICATIONS} notifications flow: nothing lost, duplicated or reordered`, async () => {
    const random = mulberry32(20261126);
    const users = Array.from({ length: USERS }, (_, i) => `churn-${i}`);
    const tokens = new Map(
      await Promise.all(users.map(async (u) => [u, await signToken(u)] as const)),
    );
    const tabs = new Map(
      users.map((u) => [
        u,
        Array.from(
          { length: TABS_PER_USER },
          () => new ChurningTab(t.wsUrl, tokens.get(u)!, random),
        ),
      ]),
    );
    await Promise.all([...tabs.values()].flat().map((tab) => tab.start()));

    const jobs: unknown[] = [];
    for (let i = 0; i < NOTIFICATIONS; i += 50) {
      const batch = Array.from({ length: Math.min(50, NOTIFICATIONS - i) }, (_, k) => ({
        name: 'notify',
        data: {
          userId: users[Math.floor(random() * USERS)],
          type: 'churn.tick',
          payload: { i: i + k },
        },
      }));
      const added = await t.producer.addBulk(batch);
      jobs.push(...added);
      // Pace the flow by the worker, so that it spans many drops and resumes of every tab.
      await Promise.all(added.map((job) => job.waitUntilFinished(t.queueEvents, 30_000)));
    }

    let lost = 0;
    let duplicated = 0;
    let reordered = 0;
    let reconnects = 0;
    let truncations = 0;
    let delivered = 0;
    for (const user of users) {
      const { body } = await http('GET', `${t.httpUrl}/v1/me/notifications?limit=100`, {
        token: tokens.get(user),
      });
      let stored: string[] = body.items.map((item: { id: string }) => item.id);
      let cursor = body.nextCursor;
      while (cursor) {
        const page = await http(
          'GET',
          `${t.httpUrl}/v1/me/notifications?limit=100&before=${cursor}`,
          { token: tokens.get(user) },
        );
        stored = stored.concat(page.body.items.map((item: { id: string }) => item.id));
        cursor = page.body.nextCursor;
      }
      stored.reverse();
      for (const tab of tabs.get(user)!) {
        await tab.settle();
        await tab.waitFor(stored.length);
        lost += stored.filter((id) => !tab.received.includes(id)).length;
        duplicated += tab.duplicates;
        reordered += tab.reordered;
        reconnects += tab.reconnects;
        truncations += tab.truncations;
        delivered += tab.received.length;
        expect(tab.received).toEqual(stored);
      }
    }
    await Promise.all([...tabs.values()].flat().map((tab) => tab.close()));
    console.log(
      `churn: ${NOTIFICATIONS} stored, ${delivered} delivered to ${USERS * TABS_PER_USER} tabs, ` +
        `${reconnects} reconnects, ${truncations} truncated; lost ${lost}, duplicated ${duplicated}, reordered ${reordered}`,
    );
    expect({ lost, duplicated, reordered, truncations }).toEqual({
      lost: 0,
      duplicated: 0,
      reordered: 0,
      truncations: 0,
    });
    expect(reconnects).toBeGreaterThan(USERS * TABS_PER_USER);
  });
});
