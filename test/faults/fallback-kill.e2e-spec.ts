import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { fallbackCheckJobId } from '../../libs/notifications/src/fallback/fallback-job-ids.js';
import { redisOptionsFromUrl } from '../../src/redis/redis-url.js';
import { http } from '../kit/http.mjs';
import { waitForJobs } from '../kit/jobs.js';
import { startRedis, type RedisServer } from '../kit/redis.mjs';
import { startService, type ServiceProcess } from '../kit/service.mjs';
import { eventually } from '../kit/timing.mjs';
import { signToken, TEST_JWT_SECRET } from '../kit/tokens.mjs';

const ROUNDS = 3;
const UNREAD = 30;
const READ = 10;
const DELAY_SECONDS = 3;

/**
 * Exactly one fallback job per notification left unread, none for one read in time, while the
 * service (gateway and worker in one process) is SIGKILLed around the fallback deadline: the moment
 * the first `fallback` job of a round reaches the host's queue, i.e. while the other checks of the
 * round are running. A plain BullMQ worker of the test's own watches the host's queue.
 */
describe('faults: fallback jobs across a worker SIGKILL (e2e)', { timeout: 240_000 }, () => {
  let redis: RedisServer;
  let service: ServiceProcess;
  let producer: Queue;
  let events: QueueEvents;
  let watcher: Worker;
  let inspect: Redis;
  const fallbackQueue = `fb-kill-${randomBytes(4).toString('hex')}`;
  const seen: { jobId: string; userId: string; id: string }[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    redis = await startRedis();
    env = {
      NODE_ENV: 'production',
      JWT_SECRET: TEST_JWT_SECRET,
      REDIS_URL: redis.url,
      NOTIFY_QUEUE: `fb-notify-${randomBytes(4).toString('hex')}`,
      FALLBACK_QUEUE: fallbackQueue,
      // A killed worker's jobs are retried after 2 s (BullMQ's stalled-job check).
      JOB_LOCK_MS: '2000',
    };
    service = await startService(env);
    const connection = redisOptionsFromUrl(redis.url);
    producer = new Queue(env.NOTIFY_QUEUE, { connection });
    events = new QueueEvents(env.NOTIFY_QUEUE, { connection });
    await events.waitUntilReady();
    inspect = new Redis(redis.url);
    watcher = new Worker(
      fallbackQueue,
      async (job: Job) => {
        const data = job.data as { userId: string; notification: { id: string } };
        seen.push({ jobId: job.id!, userId: data.userId, id: data.notification.id });
      },
      { connection, concurrency: 4 },
    );
  });

  afterAll(async () => {
    await watcher?.close();
    await producer?.close();
    await events?.close();
    inspect?.disconnect();
    await service?.stop('SIGKILL');
    await redis?.stop();
  });

  /** Fallback decisions claimed but not settled (the window a kill can leave open). */
  async function claimedUnsettled(userIds: string[]): Promise<number> {
    let count = 0;
    for (const userId of userIds) {
      const members = await inspect.zrange(`notif:{${userId}}:fb`, 0, -1);
      count += members.filter((member) => member.includes('|c|')).length;
    }
    return count;
  }

  it.each(Array.from({ length: ROUNDS }, (_, round) => round + 1))(
    'round %i: exactly one per unread notification, none for a read one',
    async (round) => {
      const unreadUsers = Array.from({ length: UNREAD }, (_, i) => `r${round}-unread-${i}`);
      const readUsers = Array.from({ length: READ }, (_, i) => `r${round}-read-${i}`);
      const jobs = await producer.addBulk(
        [...unreadUsers, ...readUsers].map((userId) => ({
          name: 'notify',
          data: { userId, type: 'reminder', fallbackAfterSeconds: DELAY_SECONDS },
        })),
      );
      const results = (await waitForJobs(jobs, events, 20_000)) as { ids: string[] }[];
      const idOf = new Map(
        [...unreadUsers, ...readUsers].map((userId, i) => [userId, results[i].ids[0]]),
      );
      for (const userId of readUsers) {
        const answer = await http('POST', `${service.httpUrl}/v1/me/notifications/mark`, {
          token: await signToken(userId),
          body: { as: 'read', ids: [idOf.get(userId)] },
        });
        expect(answer.status).toBe(200);
      }
      const before = seen.length;

      // Around the deadline: the first fallback job of the round is on the host's queue.
      await eventually(() => seen.length > before, 20_000, 'the first fallback job of the round');
      await service.stop('SIGKILL');
      const atKill = seen.length - before;
      const unsettled = await claimedUnsettled(unreadUsers);
      service = await startService(env);

      const mine = () => seen.filter((entry) => entry.userId.startsWith(`r${round}-`));
      await eventually(() => mine().length >= UNREAD, 60_000, `${UNREAD} fallback jobs`);
      // Every check of the round has finished (so nothing more can come).
      await eventually(
        async () => {
          for (const userId of [...unreadUsers, ...readUsers]) {
            const check = await producer.getJob(fallbackCheckJobId(userId, idOf.get(userId)!));
            if (!check?.finishedOn) return false;
          }
          return true;
        },
        60_000,
        'every fallback check finished',
      );
      const perNotification = new Map<string, number>();
      for (const entry of mine()) {
        perNotification.set(entry.id, (perNotification.get(entry.id) ?? 0) + 1);
      }
      const duplicated = [...perNotification.values()].filter((n) => n > 1).length;
      const forRead = readUsers.filter((userId) => perNotification.has(idOf.get(userId)!)).length;
      const lost = unreadUsers.filter((userId) => !perNotification.has(idOf.get(userId)!)).length;
      console.log(
        `[fault] fallback SIGKILL round ${round}: unread ${UNREAD} -> fallback jobs ${mine().length} ` +
          `(distinct ${perNotification.size}, lost ${lost}, duplicated ${duplicated}); read ${READ} -> ` +
          `${forRead}; ${atKill} had arrived at the kill, ${unsettled} claimed but not settled`,
      );
      expect({ lost, duplicated, forRead, total: mine().length }).toEqual({
        lost: 0,
        duplicated: 0,
        forRead: 0,
        total: UNREAD,
      });
    },
  );

  it('a kill while notify jobs are being stored: each stored notification still gets exactly one', async () => {
    const users = Array.from({ length: 200 }, (_, i) => `store-kill-${i}`);
    const completed = new Set<string>();
    const onCompleted = ({ jobId }: { jobId: string }) => completed.add(jobId);
    events.on('completed', onCompleted);
    const jobs = await producer.addBulk(
      users.map((userId) => ({
        name: 'notify',
        data: { userId, type: 'reminder', fallbackAfterSeconds: 1 },
      })),
    );
    // While the first jobs complete, others are between their store and their check's schedule.
    await eventually(() => completed.size >= 20, 20_000, 'the first notify jobs');
    await service.stop('SIGKILL');
    events.off('completed', onCompleted);
    let storedNotScheduled = 0;
    for (const userId of users) {
      const [member] = await inspect.zrange(`notif:{${userId}}:fb`, 0, 0);
      if (!member) continue;
      const id = member.slice(0, member.indexOf('|'));
      if (!(await producer.getJob(fallbackCheckJobId(userId, id)))) storedNotScheduled++;
    }
    service = await startService(env);

    const results = (await waitForJobs(jobs, events, 60_000)) as { ids: string[] }[];
    const ids = new Map(users.map((userId, i) => [userId, results[i].ids[0]]));
    const mine = () => seen.filter((entry) => entry.userId.startsWith('store-kill-'));
    await eventually(() => mine().length >= users.length, 60_000, `${users.length} fallback jobs`);
    await eventually(
      async () => {
        for (const userId of users) {
          const check = await producer.getJob(fallbackCheckJobId(userId, ids.get(userId)!));
          if (!check?.finishedOn) return false;
        }
        return true;
      },
      60_000,
      'every fallback check finished',
    );
    const perNotification = new Map<string, number>();
    for (const entry of mine()) {
      perNotification.set(entry.id, (perNotification.get(entry.id) ?? 0) + 1);
    }
    const lost = users.filter((userId) => !perNotification.has(ids.get(userId)!)).length;
    const duplicated = [...perNotification.values()].filter((n) => n > 1).length;
    console.log(
      `[fault] fallback SIGKILL while storing: ${users.length} notifications -> fallback jobs ` +
        `${mine().length} (lost ${lost}, duplicated ${duplicated}); ${completed.size} notify jobs had ` +
        `completed at the kill, ${storedNotScheduled} stored with no check scheduled yet`,
    );
    expect({ lost, duplicated, total: mine().length }).toEqual({
      lost: 0,
      duplicated: 0,
      total: users.length,
    });
  });
});
