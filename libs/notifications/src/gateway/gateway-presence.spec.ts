import type { NotificationsMetrics } from '../notifications.metrics.js';
import { NotificationsSettings } from '../notifications.settings.js';
import { PresenceStore, type PresenceWrite } from '../storage/presence.store.js';
import type { ClientConnection } from './client-connection.js';
import { ConnectionRegistry } from './connection.registry.js';
import { GatewayPresence, PRESENCE_WRITE_SPACING_MS } from './gateway-presence.js';

/** A store that records each write and lets the test decide when (and how) it ends. */
class FakeStore extends PresenceStore {
  readonly writes: PresenceWrite[] = [];
  private ends: { resolve: () => void; reject: (error: Error) => void }[] = [];

  write(batch: PresenceWrite): Promise<void> {
    this.writes.push(batch);
    return new Promise((resolve, reject) => this.ends.push({ resolve, reject }));
  }

  online(): Promise<boolean[]> {
    return Promise.resolve([]);
  }

  /** Ends the oldest write under way and lets its follow-ups start (they wait for a turn). */
  async settle(error?: Error): Promise<void> {
    const end = this.ends.shift();
    if (error) end?.reject(error);
    else end?.resolve();
    await turn();
    await turn();
  }

  /** The users of each write: `+` present, `-` absent. */
  summary(): string[][] {
    return this.writes.map((w) => [
      ...w.present.map((u) => `+${u}`),
      ...w.absent.map((u) => `-${u}`),
    ]);
  }
}

const PING_INTERVAL_MS = 900;

/** The end of this turn of the event loop, when a write that was asked for starts. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Writes one after the other at once: the spacing has a spec of its own. */
class UnspacedPresence extends GatewayPresence {
  protected override readonly writeSpacingMs: number = 0;
}

describe(GatewayPresence.name, () => {
  let store: FakeStore;
  let registry: ConnectionRegistry<ClientConnection>;
  let inc: ReturnType<typeof vi.fn>;
  let sut: GatewayPresence;

  function create(Presence: typeof GatewayPresence): GatewayPresence {
    return new Presence(
      store,
      registry,
      new NotificationsSettings({ limits: { pingIntervalMs: PING_INTERVAL_MS } }),
      { presenceWrites: { inc } } as unknown as NotificationsMetrics,
    );
  }

  beforeEach(() => {
    store = new FakeStore();
    registry = new ConnectionRegistry<ClientConnection>();
    inc = vi.fn();
    sut = create(UnspacedPresence);
  });

  /** Registers a socket of the user, as LiveInboxService does. */
  function open(userId: string): ClientConnection {
    const connection = { userId } as ClientConnection;
    registry.add(connection);
    sut.joined(userId);
    return connection;
  }

  function close(connection: ClientConnection): void {
    registry.remove(connection);
    sut.left(connection.userId);
  }

  it('writes an entry one ping interval ahead when the first socket of a user registers', async () => {
    const before = Date.now();
    open('ada');
    open('ada');
    expect(store.writes).toHaveLength(0);

    await turn();

    expect(store.summary()).toEqual([['+ada']]);
    const [write] = store.writes;
    expect(write.instanceId).toBe(sut.instanceId);
    expect(write.deadline - write.now).toBe(PING_INTERVAL_MS);
    expect(write.now).toBeGreaterThanOrEqual(before);
  });

  it('writes the users of a burst of connects in one turn of the event loop together', async () => {
    for (const userId of ['ada', 'bob', 'eve']) open(userId);

    await turn();

    expect(store.summary()).toEqual([['+ada', '+bob', '+eve']]);
  });

  it(`starts writes at least ${PRESENCE_WRITE_SPACING_MS} ms apart: a storm of connects, each in a turn of its own, is a few writes`, async () => {
    sut = create(GatewayPresence);
    open('first');
    await turn();
    // A lone connect after a quiet spell goes at the end of its turn.
    expect(store.summary()).toEqual([['+first']]);
    await store.settle();
    const users = Array.from({ length: 40 }, (_, i) => `u${i}`);
    for (const userId of users) {
      open(userId);
      await turn();
      await store.settle();
    }
    await vi.waitFor(() => expect(store.writes.flatMap((w) => w.present)).toHaveLength(41), {
      timeout: 2000,
    });
    await store.settle();
    const starts = store.writes.map((write) => write.now);
    const gaps = starts.slice(1).map((at, i) => at - starts[i]);
    // The second write waits out the spacing from the first; each later one from the one before.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(PRESENCE_WRITE_SPACING_MS);
    expect(store.writes.length).toBeLessThan(users.length / 2);
    // The goodbye at shutdown does not wait for the spacing.
    const shutdown = sut.beforeApplicationShutdown();
    await turn();
    expect(store.writes.at(-1)?.absent).toHaveLength(41);
    await store.settle();
    await shutdown;
  });

  it('removes the entry when the last socket of the user closes, not before', async () => {
    const first = open('ada');
    const second = open('ada');
    await turn();
    await store.settle();

    close(first);
    await turn();
    expect(store.writes).toHaveLength(1);
    close(second);
    await turn();

    expect(store.summary()).toEqual([['+ada'], ['-ada']]);
  });

  it('coalesces what happens during a write into one write after it', async () => {
    open('ada');
    await turn();
    const bob = open('bob');
    open('eve');
    close(bob);

    await store.settle();

    expect(store.summary()).toEqual([['+ada'], ['+eve', '-bob']]);
  });

  it('writes a socket that closed and came back before the write as present', async () => {
    const ada = open('ada');
    await turn();
    await store.settle();
    open('bob');
    await turn();
    close(ada);
    open('ada');

    await store.settle();

    expect(store.summary()).toEqual([['+ada'], ['+bob'], ['+ada']]);
  });

  it('refreshes a new entry first at a random point of the period, then every third of the ping interval, the due ones in one write', async () => {
    expect(sut.refreshEveryMs).toBe(300);
    const random = vi.spyOn(Math, 'random').mockReturnValueOnce(0.5).mockReturnValueOnce(1);
    try {
      open('ada');
      await turn();
      open('bob');
      await store.settle();
      await store.settle();
      const [ada, bob] = store.writes.map((write) => write.now);

      // ada's first refresh half a period after its write, bob's a whole one after his.
      sut.refreshDue(ada + 149);
      await turn();
      expect(store.writes).toHaveLength(2);
      sut.refreshDue(ada + 150);
      await turn();
      expect(store.summary()[2]).toEqual(['+ada']);
      await store.settle();

      // From then on every third of the interval: both are due by the later of the two.
      const adaAgain = store.writes[2].now;
      sut.refreshDue(Math.min(adaAgain, bob) + 299);
      await turn();
      expect(store.writes).toHaveLength(3);
      sut.refreshDue(Math.max(adaAgain, bob) + 300);
      await turn();

      expect(store.summary()[3]).toEqual(['+ada', '+bob']);
      expect(store.writes[3].deadline - store.writes[3].now).toBe(PING_INTERVAL_MS);
    } finally {
      random.mockRestore();
    }
  });

  it('looks at a tenth of many entries per tick (at least 500): each due one refreshed within ten ticks', async () => {
    const users = Array.from({ length: 6_000 }, (_, i) => `user-${i}`);
    users.forEach(open);
    await turn();
    await store.settle();
    expect(store.writes).toHaveLength(1);

    // Every entry is due: the ticks refresh them a tenth at a time, one write each.
    const later = store.writes[0].now + PING_INTERVAL_MS;
    for (let tick = 0; tick < 10; tick++) {
      sut.refreshDue(later);
      await turn();
      await store.settle();
    }

    const refreshes = store.writes.slice(1).map((write) => write.present.length);
    expect(refreshes).toEqual(Array(10).fill(600));
    expect(new Set(store.writes.slice(1).flatMap((write) => write.present))).toEqual(
      new Set(users),
    );
  });

  it('retries a failed write on the next tick and counts it', async () => {
    open('ada');
    await turn();
    await store.settle(new Error('Connection is closed.'));
    expect(inc).toHaveBeenCalledWith({ result: 'failed' }, 1);
    expect(store.writes).toHaveLength(1);

    sut.refreshDue();
    await turn();

    expect(store.summary()).toEqual([['+ada'], ['+ada']]);
    await store.settle();
    expect(inc).toHaveBeenLastCalledWith({ result: 'ok' }, 1);
  });

  it('removes every entry at shutdown and writes none after', async () => {
    open('ada');
    await turn();
    await store.settle();
    open('bob');
    await turn();
    const shutdown = sut.beforeApplicationShutdown();
    await store.settle();
    await store.settle();
    await shutdown;

    expect(store.summary()).toEqual([['+ada'], ['+bob'], ['-ada', '-bob']]);
    open('eve');
    sut.refreshDue(Date.now() + 10_000);
    await turn();
    expect(store.writes).toHaveLength(3);
  });
});
