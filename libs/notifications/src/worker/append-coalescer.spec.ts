import {
  NotificationStore,
  type AppendRequest,
  type AppendResult,
} from '../storage/notification.store.js';
import { AppendCoalescer } from './append-coalescer.js';

const request = (userId: string, dedupeKey = `k-${userId}`): AppendRequest => ({
  userId,
  type: 't',
  payloadJson: '{}',
  dedupeKey,
});
const resultOf = (r: AppendRequest): AppendResult => ({
  userId: r.userId,
  id: `e-${r.dedupeKey}`,
  stored: true,
  unread: 1,
});

/** A store whose round trips stay open until `release()`; records what each carried. */
class ManualStore extends NotificationStore {
  readonly trips: AppendRequest[][][] = [];
  private releases: (() => void)[] = [];
  failGroup: ((group: AppendRequest[]) => Error | undefined) | undefined;
  failTrip: Error | undefined;

  private trip<T>(groups: AppendRequest[][], answer: () => T): Promise<T> {
    this.trips.push(groups);
    return new Promise<T>((resolve, reject) => {
      this.releases.push(() => {
        if (this.failTrip) reject(this.failTrip);
        else resolve(answer());
      });
    });
  }

  append(requests: AppendRequest[]): Promise<AppendResult[]> {
    return this.trip([requests], () => {
      const error = this.failGroup?.(requests);
      if (error) throw error;
      return requests.map(resultOf);
    });
  }

  override appendGroups(groups: AppendRequest[][]): Promise<(AppendResult[] | Error)[]> {
    return this.trip(groups, () =>
      groups.map((group) => this.failGroup?.(group) ?? group.map(resultOf)),
    );
  }

  release(): void {
    this.releases.shift()?.();
  }

  replay = vi.fn();
  list = vi.fn();
  mark = vi.fn();
  counts = vi.fn();
  claimFallback = vi.fn();
  settleFallback = vi.fn();
  releaseDedupeKeys = vi.fn();
  sweepExpired = vi.fn();
  ping = vi.fn();
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe(AppendCoalescer.name, () => {
  let store: ManualStore;
  let sut: AppendCoalescer;

  beforeEach(() => {
    store = new ManualStore();
    sut = new AppendCoalescer(store, 5);
  });

  it('stores a job alone at the next turn of the event loop, with the plain append', async () => {
    const done = sut.append([request('u1')]);
    await nextTurn();

    expect(store.trips).toEqual([[[request('u1')]]]);
    store.release();
    await expect(done).resolves.toEqual([resultOf(request('u1'))]);
    expect(sut.pending).toBe(0);
  });

  it('stores the jobs that ask in the same turn in one round trip, each getting its own results', async () => {
    const a = sut.append([request('u1'), request('u2')]);
    const b = sut.append([request('u3')]);
    await nextTurn();

    expect(store.trips).toHaveLength(1);
    expect(store.trips[0]).toEqual([[request('u1'), request('u2')], [request('u3')]]);
    store.release();
    await expect(a).resolves.toEqual([resultOf(request('u1')), resultOf(request('u2'))]);
    await expect(b).resolves.toEqual([resultOf(request('u3'))]);
  });

  it('keeps one round trip under way; the jobs that ask meanwhile go together next, in order', async () => {
    const first = sut.append([request('u1')]);
    await nextTurn();
    const later = [sut.append([request('u2')]), sut.append([request('u3')])];
    await nextTurn();
    expect(store.trips).toHaveLength(1);

    store.release();
    await first;
    await nextTurn();
    expect(store.trips).toHaveLength(2);
    expect(store.trips[1]).toEqual([[request('u2')], [request('u3')]]);
    store.release();
    await Promise.all(later);
    expect(sut.pending).toBe(0);
  });

  it('bounds a round trip by requests, but always takes at least one job', async () => {
    const big = Array.from({ length: 7 }, (_, i) => request(`b${i}`));
    const jobs = [sut.append(big), sut.append([request('u1')]), sut.append([request('u2')])];
    await nextTurn();
    expect(store.trips[0]).toEqual([big]);

    store.release();
    await jobs[0];
    await nextTurn();
    expect(store.trips[1]).toEqual([[request('u1')], [request('u2')]]);
    store.release();
    await Promise.all(jobs);
  });

  it("fails only the job whose requests failed; the others' are stored", async () => {
    store.failGroup = (group) =>
      group.some((r) => r.userId === 'bad') ? new Error('ERR script') : undefined;
    const good = sut.append([request('u1')]);
    const bad = sut.append([request('bad')]);
    await nextTurn();
    store.release();

    await expect(good).resolves.toEqual([resultOf(request('u1'))]);
    await expect(bad).rejects.toThrow('ERR script');
  });

  it('fails every job of a round trip that could not be made, and goes on with the next', async () => {
    store.failTrip = new Error('Connection is closed.');
    const jobs = [sut.append([request('u1')]), sut.append([request('u2')])];
    const settled = Promise.allSettled(jobs);
    await nextTurn();
    store.release();

    expect((await settled).map((s) => s.status)).toEqual(['rejected', 'rejected']);
    store.failTrip = undefined;
    const retry = sut.append([request('u1')]);
    await nextTurn();
    store.release();
    await expect(retry).resolves.toEqual([resultOf(request('u1'))]);
  });
});
