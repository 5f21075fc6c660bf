import { randomBytes } from 'node:crypto';
import { reportCounts } from '../kit/counts.js';
import { http } from '../kit/http.mjs';
import {
  clusterProducer,
  RedisClusterFixture,
  usersOnEveryShard,
  type ClusterShard,
} from '../kit/redis-cluster.js';
import { ResumingTab } from '../kit/resuming-tab.mjs';
import { startService, type ServiceProcess } from '../kit/service.mjs';
import { eventually } from '../kit/timing.mjs';
import { signToken, TEST_JWT_SECRET } from '../kit/tokens.mjs';

interface StoredItem {
  id: string;
  payload: { n: number };
}

/** Every notification of the user's history, oldest first. */
async function history(httpUrl: string, token: string): Promise<StoredItem[]> {
  const items: StoredItem[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `?limit=100${cursor ? `&before=${cursor}` : ''}`;
    const { body } = await http('GET', `${httpUrl}/v1/me/notifications${query}`, { token });
    items.push(...(body.items as StoredItem[]));
    cursor = body.nextCursor;
  } while (cursor);
  return items.reverse();
}

describe('faults: a Redis Cluster master SIGKILLed under load (e2e)', { timeout: 300_000 }, () => {
  // NOTE: in `npm test` since 2026-12-05; it was opt-in (CLUSTER_FAILOVER=1) for two stalls.
  // - Before the kill, fewer than 100 jobs counted as completed within 90 s (once, on a machine loaded
  //   by CI, without diagnostics). The cause found that gives exactly that is this spec's own count:
  //   its QueueEvents read the event stream from `$`, which BullMQ fixes when the first XREAD reaches
  //   Redis, not when `waitUntilReady` resolves (on a cluster that is at status `connect`, before the
  //   ready check and a CLIENT SETNAME; a first XREAD that fails is tried again 5 s later, again from
  //   `$`). Completions before it are never seen, and the producer pauses at 150 outstanding by that
  //   count: more than 150 unseen completions stop the traffic for good. A copy of the first phase
  //   whose XREAD starts 3 s late stalls so ("sent 156, completed events 0", the queue: completed
  //   156), and passes reading from the first entry. Here the first XREAD came 25-366 ms after
  //   `waitUntilReady` (20 tries, load 12-20), so it takes a slow or failed first XREAD. The kit's
  //   producer now reads from the first entry (clusterProducer), and completions are counted once
  //   per job (a completion the dead queue master never replicated is made again on the new one).
  // - Before the port, in about one run in three the worker stopped completing jobs after the
  //   failover (BullMQ's main loop held its eight job slots); JOB_LOCK_MS was 2000 then, below the
  //   2.0-3.0 s failover (lost locks; a job that stalled twice failed for good). JOB_LOCK_MS is 10000
  //   since, and that stall was not seen in 68 runs (127 cases) on 2026-12-05, idle and beside
  //   other runs and busy loops.
  // A wait that times out prints the queue's counts beside the completions counted, the events'
  // errors, the first failed jobs' reasons and the end of each process's log.
  // CLUSTER_FAILOVER_QUEUE=0 leaves out the queue's shard as victim (the users' shard stays).
  const victims: [string, boolean][] = [['a shard of users only', false]];
  if (process.env.CLUSTER_FAILOVER_QUEUE !== '0')
    victims.push(["the queue's shard (and its users)", true]);
  it.each(victims)(
    '%s: the replica takes over, the service recovers without a restart, clients resume, and with REDIS_MIN_REPLICAS_ACK=1 nothing acknowledged is lost',
    async (what, queue) => {
      const cluster = await RedisClusterFixture.start({ nodeTimeoutMs: 1000 });
      const env = {
        NODE_ENV: 'production',
        JWT_SECRET: TEST_JWT_SECRET,
        REDIS_CLUSTER_NODES: cluster.seeds,
        REDIS_MIN_REPLICAS_ACK: '1',
        NOTIFY_QUEUE: `failover-${randomBytes(3).toString('hex')}`,
        // Above the failover time (2.3-2.7 s here) and event-loop stalls under load: with 2000, locks
        // expired across a failover or a busy moment, and a job that stalled twice failed for good
        // (BullMQ's maxStalledCount 1: "job stalled more than allowable limit").
        JOB_LOCK_MS: '10000',
      };
      const started = await Promise.allSettled([
        startService({ ...env, ROLE: 'gateway' }, { name: 'gateway', timeoutMs: 90_000 }),
        startService({ ...env, ROLE: 'worker' }, { name: 'worker', timeoutMs: 90_000 }),
      ]);
      const services: ServiceProcess[] = started.flatMap((s) =>
        s.status === 'fulfilled' ? [s.value] : [],
      );
      const notStarted = started.find((s) => s.status === 'rejected');
      if (notStarted) {
        // Stop what did start, the cluster included, before failing.
        await Promise.all(services.map((s) => s.stop('SIGKILL')));
        await cluster.stop();
        throw notStarted.reason;
      }
      const [gateway] = services;
      const producer = await clusterProducer(cluster, env.NOTIFY_QUEUE);
      const tabs: ResumingTab[] = [];
      try {
        // The victim holds users, and the queue or not (BullMQ's own failover then is part of it).
        const queueShard = await cluster.shardOf('{rtnotify}');
        const placed = await usersOnEveryShard(cluster, 2, 'fo');
        const victim = placed.find((p) => (p.shard.masterId === queueShard.masterId) === queue)!;
        const users = placed.flatMap((p) => p.users);
        const tokens = new Map<string, string>();
        for (const user of users) {
          tokens.set(user, await signToken(user));
          tabs.push(new ResumingTab(tokens.get(user)!, () => gateway.wsUrl));
        }
        await Promise.all(tabs.map((tab) => tab.open()));

        let sent = 0;
        /** Jobs completed, each counted once (see the NOTE), and `completed` events seen. */
        let completed = 0;
        let completionEvents = 0;
        let failed = 0;
        const eventErrors: string[] = [];
        let killedAt = 0;
        let firstVictimAckAfterKill = 0;
        /** What was added (job id `n<n>`): its user and when the add was acknowledged. */
        const added = new Map<number, { userId: string; at: number }>();
        /** Acknowledged (completed) notifications: n → the id the job answered. */
        const acked = new Map<number, string>();
        producer.events.on('failed', () => failed++);
        producer.events.on('error', (error: Error) => eventErrors.push(error.message));
        producer.events.on('completed', ({ jobId, returnvalue }) => {
          completionEvents++;
          const n = Number(jobId.slice(1));
          const result = (
            typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue
          ) as {
            ids: string[];
          };
          acked.set(n, result.ids[0]);
          completed = acked.size;
          // Recovery: a job added after the kill, for a user of the killed shard, completed.
          const job = added.get(n);
          if (killedAt > 0 && job && job.at > killedAt && victim.users.includes(job.userId)) {
            firstVictimAckAfterKill ||= Date.now();
          }
        });
        let producing = true;
        const traffic = (async () => {
          while (producing) {
            // Steady load the worker keeps up with: at most ~150 jobs outstanding, so that the
            // jobs added after the kill are not queued behind an ever longer backlog.
            if (sent - completed > 150) {
              await new Promise((resolve) => setTimeout(resolve, 20));
              continue;
            }
            const batch = users.map((userId) => {
              const n = sent++;
              return {
                name: 'notify',
                data: { userId, type: 'failover.tick', payload: { n } },
                // The job id makes an add retried after an error idempotent.
                // Retried for as long as the shard needs to get a replica back (WAIT 1).
                opts: {
                  jobId: `n${n}`,
                  attempts: 10_000,
                  backoff: { type: 'fixed' as const, delay: 250 },
                },
              };
            });
            // An add that fails while the cluster fails over is not acknowledged: try it again.
            for (;;) {
              try {
                await producer.queue.addBulk(batch);
                const at = Date.now();
                for (const job of batch) {
                  added.set(job.data.payload.n, { userId: job.data.userId, at });
                }
                break;
              } catch {
                await new Promise((resolve) => setTimeout(resolve, 100));
              }
            }
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        })();

        /** What the queue, the events and the processes say, for a wait that timed out. */
        const diagnose = async (error: Error): Promise<never> => {
          const counts = await producer.queue
            .getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized')
            .catch((e: Error) => e.message);
          const workers = await producer.queue
            .getWorkers()
            .then((list) => list.length)
            .catch((e: Error) => e.message);
          const failedJobs = await producer.queue
            .getFailed(0, 4)
            .then((jobs) => jobs.map((j) => `${j.id} (${j.attemptsMade}): ${j.failedReason}`))
            .catch((e: Error) => [e.message]);
          throw new Error(
            `${error.message}; sent ${sent}, completed ${completed} (events ${completionEvents}), ` +
              `failed events ${failed}, queue ${JSON.stringify(counts)}, workers ${workers}, ` +
              `failed jobs ${JSON.stringify(failedJobs)}, events' errors ` +
              `${JSON.stringify(eventErrors.slice(-5))}\n` +
              services
                .map((s, i) => `[${['gateway', 'worker'][i]}]\n${s.output().slice(-3000)}`)
                .join('\n----\n'),
          );
        };
        await eventually(
          () => completed >= 100,
          90_000,
          '100 jobs completed before the kill',
        ).catch(diagnose);
        const replica = victim.shard.replicas[0];
        // From the moment the master's process has exited: taken before the signal, a job stored
        // just before the master died counted as a recovery (once "3 ms after the kill").
        await cluster.kill(victim.shard.master, 'SIGKILL');
        killedAt = Date.now();
        const promoted: ClusterShard = await eventually(
          async () => {
            const shard = await cluster.shardOf(`{${victim.users[0]}}`).catch(() => undefined);
            return shard && shard.master === replica && shard;
          },
          90_000,
          'the replica promoted',
        );
        const failoverMs = Date.now() - killedAt;
        // The dead master comes back as a replica of the new one: WAIT 1 can succeed again.
        await cluster.restart(victim.shard.master);
        await cluster.waitUntilHealthy(90_000);
        await eventually(
          () => firstVictimAckAfterKill > 0,
          120_000,
          'a victim user acknowledged again',
        ).catch(diagnose);
        const recoveryMs = firstVictimAckAfterKill - killedAt;
        const mark = completed;
        await eventually(
          () => completed >= mark + 100,
          90_000,
          '100 more jobs after the recovery',
        ).catch(diagnose);
        producing = false;
        await traffic;
        // An add acknowledged by the queue's master just before it died may not have reached its
        // replica (REDIS_MIN_REPLICAS_ACK covers the store, not the enqueue): a careful producer adds
        // what has not completed again, under the same job id (a no-op for a job that exists).
        let readded = 0;
        let before = -1;
        await eventually(
          async () => {
            // A job failed for good never completes: say so now, with the diagnostics below.
            if (failed > 0) return true;
            if (completed >= sent) return true;
            const missing = [...added].filter(([n]) => !acked.has(n));
            // Nothing completed for 5 s while some are missing: add those again.
            if (completed === before && missing.length > 0) {
              readded += missing.length;
              await producer.queue.addBulk(
                missing.map(([n, job]) => ({
                  name: 'notify',
                  data: { userId: job.userId, type: 'failover.tick', payload: { n } },
                  opts: {
                    jobId: `n${n}`,
                    attempts: 10_000,
                    backoff: { type: 'fixed', delay: 250 },
                  },
                })),
              );
            }
            before = completed;
            await new Promise((resolve) => setTimeout(resolve, 5000));
            return completed >= sent;
          },
          180_000,
          'every job completed',
        ).catch(diagnose);
        if (failed > 0) await diagnose(new Error(`${failed} jobs failed for good`));
        await eventually(() => acked.size >= sent, 30_000, 'every completion read');

        let stored = 0;
        let delivered = 0;
        let lost = 0;
        let duplicated = 0;
        for (const [i, user] of users.entries()) {
          const items = await history(gateway.httpUrl, tokens.get(user)!);
          const ids = items.map((item) => item.id);
          stored += items.length;
          // No notification stored twice (each carries a distinct n).
          duplicated += items.length - new Set(items.map((item) => item.payload.n)).size;
          await tabs[i].waitFor(ids.length, 60_000);
          delivered += tabs[i].received.length;
          lost += ids.filter((id) => !tabs[i].received.includes(id)).length;
          duplicated += tabs[i].duplicates;
          expect({ user, reordered: tabs[i].reordered }).toEqual({ user, reordered: 0 });
          expect(tabs[i].received).toEqual(ids);
        }
        // Every acknowledged notification is in its user's history.
        const storedIds = new Set<string>();
        for (const user of users) {
          for (const item of await history(gateway.httpUrl, tokens.get(user)!))
            storedIds.add(item.id);
        }
        const ackedLost = [...acked.values()].filter((id) => !storedIds.has(id)).length;
        lost += ackedLost;
        const victimTabs = tabs.filter((_, i) => victim.users.includes(users[i]));
        reportCounts(`cluster master SIGKILL (${what}), REDIS_MIN_REPLICAS_ACK=1`, {
          sent,
          stored,
          delivered,
          lost,
          duplicated,
        });
        console.log(
          `[fault] failover: replica ${promoted.master} promoted ${failoverMs} ms after the kill; ` +
            `the first job added after the kill for a user of that shard completed ${recoveryMs} ms ` +
            `after it; ${readded} jobs added again after the traffic (none completed for 5 s); ` +
            `closes of those users' tabs: ${JSON.stringify(victimTabs.map((t) => t.closes.map((c) => c.code)))}`,
        );
        expect(stored).toBe(sent);
        expect(acked.size).toBe(sent);
        expect({ lost, duplicated, ackedLost }).toEqual({ lost: 0, duplicated: 0, ackedLost: 0 });
        // The victim's users were live on the dead master: their tabs were made to resume.
        for (const tab of victimTabs) expect(tab.closes.map((c) => c.code)).toContain(1011);
        for (const service of services) expect(service.process.exitCode).toBeNull();
        const ready = await http('GET', `${gateway.httpUrl}/health/ready`);
        expect(ready.body.details?.redis).toMatchObject({ status: 'up', cluster_state: 'ok' });
      } finally {
        await Promise.all(tabs.map((tab) => tab.close()));
        await producer.close();
        await Promise.all(services.map((s) => s.stop('SIGKILL')));
        await cluster.stop();
      }
    },
  );
});
