import { waitForJobs } from './kit/jobs.js';
import { storedIds } from './kit/http.mjs';
import { ResumingTab } from './kit/resuming-tab.mjs';
import { startTestApp, type TestApp } from './kit/test-app.js';
import { signToken } from './kit/tokens.mjs';

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
    const tokens = await Promise.all(users.map((user) => signToken(user)));
    const tabs = tokens.map((token) =>
      Array.from({ length: TABS_PER_USER }, () => new ResumingTab(token, () => t.wsUrl)),
    );
    await Promise.all(tabs.flat().map((tab) => tab.open()));

    // Every few milliseconds a random tab drops its socket and resumes from the last id it saw.
    let drops = 0;
    const churn = setInterval(() => {
      tabs.flat()[Math.floor(random() * USERS * TABS_PER_USER)].drop();
      drops++;
    }, 5);
    try {
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
        // Pace the flow by the worker, so that it spans many drops and resumes of every tab.
        await waitForJobs(added, t.queueEvents, 30_000);
      }
    } finally {
      clearInterval(churn);
    }

    let lost = 0;
    let duplicated = 0;
    let reordered = 0;
    let truncated = 0;
    let delivered = 0;
    for (const [u, token] of tokens.entries()) {
      const stored = await storedIds(t.httpUrl, token);
      for (const tab of tabs[u]) {
        await tab.waitFor(stored.length);
        lost += stored.filter((id) => !tab.received.includes(id)).length;
        duplicated += tab.duplicates;
        reordered += tab.reordered;
        truncated += tab.truncations;
        delivered += tab.received.length;
        expect(tab.received).toEqual(stored);
      }
    }
    await Promise.all(tabs.flat().map((tab) => tab.close()));
    console.log(
      `churn: ${NOTIFICATIONS} stored, ${delivered} delivered to ${USERS * TABS_PER_USER} tabs, ` +
        `${drops} drops, ${truncated} truncated; lost ${lost}, duplicated ${duplicated}, reordered ${reordered}`,
    );
    expect({ lost, duplicated, reordered, truncated }).toEqual({
      lost: 0,
      duplicated: 0,
      reordered: 0,
      truncated: 0,
    });
    expect(drops).toBeGreaterThan(USERS * TABS_PER_USER);
  }, 120_000);
});
