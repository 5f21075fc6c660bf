import { Logger } from '@nestjs/common';
import { CloseCode, type ServerFrame } from '@rtnotify/protocol';
import { GATEWAY_OPTIONS } from '@nestjs/websockets/constants.js';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { WebSocket, WebSocketServer } from 'ws';
import type { NotificationsMetrics } from '../notifications.metrics.js';
import { NotificationsSettings } from '../notifications.settings.js';
import { WriteBatch, type ClientConnection } from './client-connection.js';
import type { ConnectionHeartbeat } from './connection-heartbeat.js';
import { HandshakeHolds } from './handshake-holds.js';
import type { LiveInboxService } from './live-inbox.service.js';
import { gatewayForPath, NotificationGateway } from './notification.gateway.js';
import type {
  UpgradeAuthenticator,
  UpgradeOutcome,
  VerifyClient,
} from './upgrade-authenticator.js';

const OPEN = 1;
const CLOSED = 3;

/** An open socket that records what the server sends and how it closes it. */
class FakeSocket extends EventEmitter {
  readyState = OPEN;
  bufferedAmount = 0;
  readonly sent: ServerFrame[] = [];
  closedWith: [number, string] | undefined;
  /** Whether the client answers a close frame (else the socket stays closing). */
  answersClose = true;
  terminated = false;
  constructor(private readonly log: string[] = []) {
    super();
  }
  send(frame: string): void {
    this.sent.push(JSON.parse(frame) as ServerFrame);
  }
  close(code: number, reason: string): void {
    this.log.push(`close ${code}`);
    this.closedWith = [code, reason];
    if (!this.answersClose) return;
    this.readyState = CLOSED;
    queueMicrotask(() => this.emit('close'));
  }
  terminate(): void {
    this.terminated = true;
    this.readyState = CLOSED;
    queueMicrotask(() => this.emit('close'));
  }
  /** A text frame from the client. */
  frame(json: unknown): void {
    this.emit('message', Buffer.from(JSON.stringify(json)), false);
  }
}

const COUNTS = { unread: 2, unseen: 1, categories: {} };

describe(NotificationGateway.name, () => {
  /** What the upgraded TCP stream (held from the handshake to `ready`) and the sockets were told. */
  let log: string[];
  let request: IncomingMessage;
  let holds: HandshakeHolds;
  let verifyClient: ReturnType<typeof vi.fn<VerifyClient>>;
  let authenticate: ReturnType<typeof vi.fn<(request: IncomingMessage) => Promise<UpgradeOutcome>>>;
  let heartbeat: {
    start: ReturnType<typeof vi.fn>;
    stop: ReturnType<typeof vi.fn>;
    watch: ReturnType<typeof vi.fn>;
  };
  let inbox: {
    register: ReturnType<typeof vi.fn<(connection: ClientConnection) => boolean>>;
    open: ReturnType<
      typeof vi.fn<(c: ClientConnection, since?: string, batch?: WriteBatch) => Promise<void>>
    >;
    close: ReturnType<typeof vi.fn>;
    markRead: ReturnType<typeof vi.fn>;
    mark: ReturnType<typeof vi.fn>;
    connections: ReturnType<typeof vi.fn>;
  };
  let rejected: ReturnType<typeof vi.fn>;
  let sut: NotificationGateway;

  beforeEach(() => {
    log = [];
    request = {
      url: '/ws?since=e1-3',
      headers: {},
      socket: { cork: () => log.push('cork'), uncork: () => log.push('uncork') },
    } as unknown as IncomingMessage;
    holds = new HandshakeHolds();
    verifyClient = vi.fn<VerifyClient>((_info, done) => done(true));
    authenticate = vi.fn(async () => ({ identity: { userId: 'ada', expiresAt: 10_000 } }));
    heartbeat = { start: vi.fn(), stop: vi.fn(), watch: vi.fn() };
    const open = new Set<ClientConnection>();
    inbox = {
      register: vi.fn((connection: ClientConnection) => (open.add(connection), true)),
      open: vi.fn(async () => undefined),
      close: vi.fn((connection: ClientConnection) => open.delete(connection)),
      markRead: vi.fn(async () => ({ unread: 2, changed: false })),
      mark: vi.fn(async () => ({ ids: [], changed: 0, counts: COUNTS, unreadBefore: 2 })),
      connections: vi.fn(() => open.values()),
    };
    rejected = vi.fn();
    const metrics = {
      rejected: { inc: rejected },
      delivered: { inc: vi.fn() },
    } as unknown as NotificationsMetrics;
    sut = new NotificationGateway(
      { authenticate, verifyClient } as unknown as UpgradeAuthenticator,
      heartbeat as unknown as ConnectionHeartbeat,
      inbox as unknown as LiveInboxService,
      holds,
      new NotificationsSettings({ limits: { maxMessagesPerMinute: 3, maxFrameBytes: 2048 } }),
      metrics,
    );
  });

  /** A socket whose upgrade was accepted (its stream held, as `verifyClient` does), connected. */
  async function connect(): Promise<FakeSocket> {
    const socket = new FakeSocket(log);
    holds.hold(request.socket);
    await sut.handleConnection(socket as unknown as WebSocket, request);
    return socket;
  }

  /** Waits until the pending frame handlers have run. */
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('sets the limits and the upgrade check on the ws server, and starts the heartbeat', () => {
    const server = { options: {} } as WebSocketServer;

    sut.afterInit(server);

    expect(server.options).toMatchObject({ maxPayload: 2048, perMessageDeflate: false });
    expect(server.options.handleProtocols?.(new Set(['bearer', 'x']), {} as IncomingMessage)).toBe(
      'bearer',
    );
    expect(heartbeat.start).toHaveBeenCalledOnce();
  });

  it("holds an accepted upgrade's answer back (its stream corked), and not a refused one's", () => {
    const server = { options: {} } as WebSocketServer;
    sut.afterInit(server);
    const verify = server.options.verifyClient as VerifyClient;
    const done = vi.fn();

    verify({ req: request, secure: false }, done);
    expect(done).toHaveBeenLastCalledWith(true);
    expect(log).toEqual(['cork']);
    expect(holds.batchOf(request.socket).isHolding).toBe(true);

    const refused = {
      url: '/ws',
      headers: {},
      socket: { cork: () => log.push('cork 2'), uncork: () => 0 },
    } as unknown as IncomingMessage;
    verifyClient.mockImplementationOnce((_info, answer) => answer(false, 401, 'missing token'));
    verify({ req: refused, secure: false }, done);
    expect(done).toHaveBeenLastCalledWith(false, 401, 'missing token');
    expect(log).toEqual(['cork']);
  });

  it('admits an authenticated socket: watched, registered, opened from `since` with the batch that holds its handshake', async () => {
    let heldWhileOpening: boolean | undefined;
    inbox.open.mockImplementationOnce(async (_connection, _since, batch) => {
      heldWhileOpening = batch?.isHolding;
    });

    await connect();

    expect(heartbeat.watch).toHaveBeenCalledWith(
      expect.objectContaining({ userId: 'ada' }),
      10_000,
    );
    expect(inbox.register).toHaveBeenCalledOnce();
    expect(inbox.open).toHaveBeenCalledWith(
      expect.objectContaining({ userId: 'ada' }),
      'e1-3',
      expect.any(WriteBatch),
    );
    expect(heldWhileOpening).toBe(true);
    // Let go once the connect is done.
    expect(log).toEqual(['cork', 'uncork']);
  });

  it('closes a refused socket with the close code and reason, and counts it', async () => {
    authenticate.mockResolvedValueOnce({
      refused: { closeCode: CloseCode.Unauthorized, reason: 'token expired' },
    });

    const socket = await connect();

    expect(socket.closedWith).toEqual([CloseCode.Unauthorized, 'token expired']);
    expect(rejected).toHaveBeenCalledWith({ code: String(CloseCode.Unauthorized) });
    expect(inbox.register).not.toHaveBeenCalled();
    // The close goes out with the held handshake.
    expect(log).toEqual(['cork', `close ${CloseCode.Unauthorized}`, 'uncork']);
  });

  it('closes a socket over maxSocketsPerUser with 4429', async () => {
    inbox.register.mockReturnValueOnce(false);

    const socket = await connect();

    expect(socket.closedWith).toEqual([CloseCode.TooMany, 'too many connections for this user']);
    expect(inbox.open).not.toHaveBeenCalled();
  });

  it('closes with 1011 when opening the inbox fails', async () => {
    inbox.open.mockRejectedValueOnce(new Error('redis down'));
    const logged = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);

    const socket = await connect();

    expect(socket.closedWith).toEqual([CloseCode.InternalError, 'internal error']);
    expect(logged).toHaveBeenCalledWith('connect failed: redis down');
    expect(log).toEqual(['cork', `close ${CloseCode.InternalError}`, 'uncork']);
    logged.mockRestore();
  });

  it('answers ping with pong', async () => {
    const socket = await connect();

    socket.frame({ event: 'ping', data: { ts: 7 } });
    await settle();

    expect(socket.sent).toEqual([{ event: 'pong', data: { ts: 7 } }]);
  });

  it('marks read, and sends the count itself only when nothing changed', async () => {
    const socket = await connect();

    socket.frame({ event: 'read', data: { all: true } });
    await settle();

    expect(inbox.markRead).toHaveBeenCalledWith(expect.objectContaining({ userId: 'ada' }), {
      all: true,
    });
    expect(socket.sent).toEqual([{ event: 'unread', data: { unread: 2 } }]);
  });

  it('marks (1.1); when nothing changed, only this socket is answered, with the counts', async () => {
    const socket = await connect();

    socket.frame({ event: 'mark', data: { as: 'seen', ids: ['e1-1'] } });
    socket.frame({ event: 'mark', data: { as: 'archived', all: true, onlyRead: true } });
    await settle();

    expect(inbox.mark).toHaveBeenNthCalledWith(1, expect.objectContaining({ userId: 'ada' }), {
      as: 'seen',
      ids: ['e1-1'],
    });
    expect(socket.sent).toEqual([
      { event: 'marked', data: { as: 'seen', ids: [], counts: COUNTS } },
      { event: 'marked', data: { as: 'archived', all: true, onlyRead: true, counts: COUNTS } },
    ]);
  });

  it('leaves the answer of a mark that changed something to the channel', async () => {
    inbox.mark.mockResolvedValueOnce({
      ids: ['e1-1'],
      changed: 1,
      counts: COUNTS,
      unreadBefore: 3,
    });
    const socket = await connect();

    socket.frame({ event: 'mark', data: { as: 'read', ids: ['e1-1'] } });
    await settle();

    expect(inbox.mark).toHaveBeenCalledOnce();
    expect(socket.sent).toEqual([]);
  });

  it('says so when a mark fails, and keeps the socket', async () => {
    const logged = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    inbox.mark.mockRejectedValueOnce(new Error('redis down'));
    const socket = await connect();

    socket.frame({ event: 'mark', data: { as: 'read', all: true } });
    await settle();

    expect(socket.sent).toEqual([
      { event: 'error', data: { code: 'internal', message: 'could not mark; retry' } },
    ]);
    expect(socket.closedWith).toBeUndefined();
    expect(logged).toHaveBeenCalledWith('mark failed: redis down');
    logged.mockRestore();
  });

  it('says why a frame is refused, and keeps the socket', async () => {
    const socket = await connect();

    socket.frame({ event: 'subscribe', data: {} });
    await settle();

    expect(socket.sent).toEqual([
      { event: 'error', data: { code: 'unknown_event', message: expect.any(String) } },
    ]);
    expect(socket.closedWith).toBeUndefined();
  });

  it('handles frames sent before the token was verified once it is', async () => {
    let admit!: (outcome: UpgradeOutcome) => void;
    authenticate.mockReturnValueOnce(new Promise((resolve) => (admit = resolve)));
    const socket = new FakeSocket();
    const connected = sut.handleConnection(socket as unknown as WebSocket, request);

    socket.frame({ event: 'ping', data: {} });
    await settle();
    expect(socket.sent).toEqual([]);
    admit({ identity: { userId: 'ada', expiresAt: 10_000 } });
    await connected;
    await settle();

    expect(socket.sent).toEqual([{ event: 'pong', data: {} }]);
  });

  it('spends the frame budget on messages and pings alike: over it, rate_limited and 4429', async () => {
    const socket = await connect();

    socket.frame({ event: 'ping', data: {} });
    socket.emit('ping');
    socket.frame({ event: 'ping', data: {} });
    socket.frame({ event: 'ping', data: {} });
    await settle();

    expect(socket.sent.map((frame) => frame.event)).toEqual(['pong', 'pong', 'error']);
    expect(socket.sent[2].data).toEqual({ code: 'rate_limited', message: 'too many messages' });
    expect(socket.closedWith).toEqual([CloseCode.TooMany, 'too many messages']);
  });

  it("counts ws's closes on a client's protocol error under their close code", async () => {
    const socket = await connect();

    socket.emit(
      'error',
      Object.assign(new Error('too big'), { code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' }),
    );
    socket.emit('error', Object.assign(new Error('reset'), { code: 'ECONNRESET' }));

    expect(rejected.mock.calls).toEqual([[{ code: '1009' }]]);
  });

  it('hands a closed socket back to the inbox once', async () => {
    const socket = await connect();

    sut.handleDisconnect(socket as unknown as WebSocket);
    sut.handleDisconnect(socket as unknown as WebSocket);

    expect(inbox.close).toHaveBeenCalledOnce();
  });

  it('drains at shutdown: stops the heartbeat, closes every socket with 1001, refuses new ones', async () => {
    const sockets = [await connect(), await connect()];

    await sut.beforeApplicationShutdown();
    const late = await connect();

    expect(heartbeat.stop).toHaveBeenCalledOnce();
    for (const socket of sockets) {
      expect(socket.closedWith).toEqual([CloseCode.GoingAway, 'server shutting down: reconnect']);
    }
    expect(late.closedWith).toEqual([CloseCode.GoingAway, 'server shutting down: reconnect']);
    expect(sockets.some((socket) => socket.terminated)).toBe(false);
  });

  it('is served on its path by a ws server that keeps no list of its sockets', () => {
    expect(Reflect.getMetadata(GATEWAY_OPTIONS, gatewayForPath('/sockets'))).toEqual({
      path: '/sockets',
      clientTracking: false,
    });
  });

  it('cuts at shutdown, after 2 s, a socket whose client did not answer the close', async () => {
    const [answering, silent] = [await connect(), await connect()];
    silent.answersClose = false;
    vi.useFakeTimers();
    try {
      const shutdown = sut.beforeApplicationShutdown();
      await vi.advanceTimersByTimeAsync(1999);
      expect(silent.terminated).toBe(false);

      await vi.advanceTimersByTimeAsync(1);
      await shutdown;
    } finally {
      vi.useRealTimers();
    }

    expect(silent.closedWith?.[0]).toBe(CloseCode.GoingAway);
    expect(silent.terminated).toBe(true);
    expect(answering.terminated).toBe(false);
  });
});
