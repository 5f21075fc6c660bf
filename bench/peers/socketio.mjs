/**
 * The peer stack users pick today: Socket.IO with `@socket.io/redis-adapter` (so that it can run on
 * several instances) and a BullMQ worker that emits each notification to the user's room.
 * Sockets authenticate with a JWT in `handshake.auth.token` (HS256, verified with jose, as ours).
 * Nothing is stored: a user who is offline misses the notification.
 *
 * Env: PORT, REDIS_URL, JWT_SECRET, NOTIFY_QUEUE (notifications), WORKER_CONCURRENCY (32, as ours).
 */
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { jwtVerify } from 'jose';
import { Server } from 'socket.io';

const port = Number(process.env.PORT ?? 3000);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const queueName = process.env.NOTIFY_QUEUE ?? 'notifications';
const concurrency = Number(process.env.WORKER_CONCURRENCY ?? 32);
const secret = new TextEncoder().encode(process.env.JWT_SECRET);

const pubClient = new Redis(redisUrl);
const subClient = pubClient.duplicate();
const server = createServer();
const io = new Server(server, { adapter: createAdapter(pubClient, subClient) });

io.use(async (socket, next) => {
  try {
    const { payload } = await jwtVerify(String(socket.handshake.auth.token), secret, {
      algorithms: ['HS256'],
      requiredClaims: ['sub', 'exp'],
    });
    socket.data.userId = payload.sub;
    next();
  } catch {
    next(new Error('unauthorized'));
  }
});

io.on('connection', (socket) => {
  socket.join(`user:${socket.data.userId}`);
});

const worker = new Worker(
  queueName,
  async (job) => {
    const { userId, userIds, type, payload } = job.data;
    const rooms = (userIds ?? [userId]).map((uid) => `user:${uid}`);
    io.to(rooms).emit('notification', { type, payload });
  },
  { connection: new Redis(redisUrl, { maxRetriesPerRequest: null }), concurrency },
);
worker.on('error', (error) => console.error(`worker: ${error.message}`));

server.listen(port, '127.0.0.1', () => console.log(`socketio listening on ${port}`));

process.once('SIGTERM', async () => {
  await worker.close();
  io.close();
  await Promise.allSettled([pubClient.quit(), subClient.quit()]);
  process.exit(0);
});
