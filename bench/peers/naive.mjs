/**
 * The naive reference: the classic tutorial design. A plain `ws` server keeps a `uid → socket` map;
 * a BullMQ worker takes one job per notification and sends it to the user's socket. The user id comes
 * from the `?uid=` query parameter (no authentication, as in the tutorials) and nothing is stored:
 * a user who is offline simply misses the notification.
 *
 * Env: PORT, REDIS_URL, NOTIFY_QUEUE (notifications), WORKER_CONCURRENCY (32, as ours).
 */
import { createServer } from 'node:http';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { WebSocket, WebSocketServer } from 'ws';

const port = Number(process.env.PORT ?? 3000);
const queueName = process.env.NOTIFY_QUEUE ?? 'notifications';
const concurrency = Number(process.env.WORKER_CONCURRENCY ?? 32);
const connection = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  maxRetriesPerRequest: null,
});

const sockets = new Map();

const server = createServer((_request, response) => response.writeHead(404).end());
const wss = new WebSocketServer({ server });

wss.on('connection', (ws, request) => {
  const uid = new URL(request.url ?? '/', 'http://localhost').searchParams.get('uid');
  if (!uid) {
    ws.close(4401, 'uid required');
    return;
  }
  sockets.set(uid, ws);
  ws.isAlive = true;
  ws.on('pong', () => (ws.isAlive = true));
  ws.on('close', () => {
    if (sockets.get(uid) === ws) sockets.delete(uid);
  });
});

// The heartbeat of the `ws` README: drop sockets that stopped answering pings.
const heartbeat = setInterval(() => {
  for (const ws of wss.clients) {
    if (!ws.isAlive) {
      ws.terminate();
      continue;
    }
    ws.isAlive = false;
    ws.ping();
  }
}, 30_000);

const worker = new Worker(
  queueName,
  async (job) => {
    const { userId, userIds, type, payload } = job.data;
    const message = JSON.stringify({ type, payload });
    for (const uid of userIds ?? [userId]) {
      const ws = sockets.get(uid);
      if (ws?.readyState === WebSocket.OPEN) ws.send(message);
    }
  },
  { connection, concurrency },
);
worker.on('error', (error) => console.error(`worker: ${error.message}`));

server.listen(port, '127.0.0.1', () => console.log(`naive listening on ${port}`));

process.once('SIGTERM', async () => {
  clearInterval(heartbeat);
  await worker.close();
  for (const ws of wss.clients) ws.terminate();
  server.close();
  await connection.quit();
  process.exit(0);
});
