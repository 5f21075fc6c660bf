import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import {
  WebSocketGateway,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
} from '@nestjs/websockets';
import { BEARER_PROTOCOL, CloseCode, type ClientFrame } from '@rtnotify/protocol';
import type { IncomingMessage } from 'node:http';
import type { WebSocket, WebSocketServer } from 'ws';
import { ConnectionRegistry } from '../connection.registry.js';
import { InvalidTokenError } from '../errors/invalid-token.error.js';
import { NotificationBroker, type ChannelMessage } from '../notification.broker.js';
import { NotificationStore } from '../notification.store.js';
import { InboxService } from '../inbox.service.js';
import { NotificationsMetrics } from '../notifications.metrics.js';
import { NotificationsSettings } from '../notifications.settings.js';
import { TokenVerifier } from '../token.verifier.js';
import { ClientConnection, type ConnectionHooks } from './client-connection.js';
import { isFrameError, parseClientFrame } from './client-frames.js';
import { originAllowed, sinceOf, tokenOf } from './handshake.js';
import { upgradeCheck, verifiedIdentityOf } from './upgrade-check.js';

const connections = new WeakMap<WebSocket, ClientConnection>();

/**
 * How long a socket the server closes may take to answer the close frame before it is cut (ws's
 * default is 30 s): a client that stopped reading must not hold its socket and buffers that long.
 */
const CLOSE_HANDSHAKE_TIMEOUT_MS = 5000;

function onPong(this: WebSocket): void {
  connections.get(this)?.answered();
}

/**
 * The WebSocket endpoint of wire protocol v1: authenticates at connect, registers the socket, replays
 * what the client missed, then forwards the user's channel; answers client frames. Served on the path
 * that `gatewayForPath` binds it to.
 */
@Injectable()
export class NotificationGateway
  implements
    OnGatewayInit<WebSocketServer>,
    OnGatewayConnection<WebSocket>,
    OnGatewayDisconnect<WebSocket>,
    BeforeApplicationShutdown
{
  private readonly logger = new Logger(NotificationGateway.name);
  private heartbeat: NodeJS.Timeout | undefined;
  private draining = false;
  private readonly hooks: ConnectionHooks;

  // Listeners shared by every socket (`this` is the socket), rather than closures per socket.
  private readonly onMessage: (this: WebSocket, data: Buffer, isBinary: boolean) => void;
  private readonly onPing: (this: WebSocket) => void;
  private readonly onError: (this: WebSocket, error: Error) => void;

  constructor(
    private readonly registry: ConnectionRegistry<ClientConnection>,
    private readonly verifier: TokenVerifier,
    private readonly store: NotificationStore,
    private readonly inbox: InboxService,
    private readonly broker: NotificationBroker,
    private readonly settings: NotificationsSettings,
    private readonly metrics: NotificationsMetrics,
  ) {
    broker.onMessage((message) => this.deliver(message));
    broker.onResubscribed(() => this.resumeInterrupted());
    this.hooks = {
      closedByServer: (code) => metrics.rejected.inc({ code: String(code) }),
      delivered: () => metrics.delivered.inc(),
    };
    const frames = (connection: ClientConnection, data: Buffer, isBinary: boolean) =>
      this.onFrame(connection, data, isBinary);
    this.onMessage = function (data, isBinary) {
      const connection = connections.get(this);
      if (!connection) return;
      connection.answered();
      if (connection.authenticated === true) frames(connection, data, isBinary);
      else if (connection.authenticated !== false) {
        // Frames sent before the token is verified are handled once it is.
        void connection.authenticated.then((ok) => ok && frames(connection, data, isBinary));
      }
    };
    // Ping frames cost the server a pong each: they spend the same per-socket frame budget as
    // messages, so a ping flood ends in 4429 like a message flood.
    const overBudget = (connection: ClientConnection) => this.overBudget(connection);
    this.onPing = function () {
      const connection = connections.get(this);
      if (connection) overBudget(connection);
    };
    const hooks = this.hooks;
    this.onError = function (error) {
      // ws closes a socket on a client's protocol error (1009 frame too large, 1007 invalid UTF-8,
      // 1008 too many fragments…) and tags the error with that code: count it with the others.
      const code = Object.getOwnPropertySymbols(error)
        .filter((symbol) => symbol.description === 'status-code')
        .map((symbol) => (error as unknown as Record<symbol, unknown>)[symbol])[0];
      if (typeof code === 'number') hooks.closedByServer(code);
    };
  }

  afterInit(server: WebSocketServer): void {
    // NOTE: the limits come from module options, known only at runtime, so they are set on the ws
    // server here rather than in the decorator; ws reads them on every upgrade.
    server.options.maxPayload = this.settings.limits.maxFrameBytes;
    server.options.perMessageDeflate = false;
    // NOTE: `closeTimeout` (ws >= 8.18) is missing from @types/ws.
    (server.options as { closeTimeout?: number }).closeTimeout = CLOSE_HANDSHAKE_TIMEOUT_MS;
    server.options.handleProtocols = (protocols) =>
      protocols.has(BEARER_PROTOCOL) ? BEARER_PROTOCOL : false;
    // Origin and token are checked before the handshake completes: refused upgrades get 403/401.
    server.options.verifyClient = upgradeCheck(
      this.verifier,
      this.settings.allowedOrigins,
      (code) => this.hooks.closedByServer(code),
    );
    // The heartbeat ticks often and pings only the sockets that are due, so that pings (and the
    // token expiry checks) are spread over the interval instead of arriving as one burst.
    const tickMs = Math.min(
      1000,
      Math.max(50, Math.floor(this.settings.limits.pingIntervalMs / 20)),
    );
    this.heartbeat = setInterval(() => this.tick(), tickMs);
    this.heartbeat.unref();
  }

  async handleConnection(socket: WebSocket, request: IncomingMessage): Promise<void> {
    const connection = new ClientConnection(
      socket,
      this.settings.limits.maxBufferedBytes,
      this.hooks,
    );
    connections.set(socket, connection);
    socket.on('error', this.onError);
    socket.on('pong', onPong);
    socket.on('ping', this.onPing);
    socket.on('message', this.onMessage);
    connection.authenticated = this.authenticate(connection, request);
    connection.authenticated = await connection.authenticated;
    if (!connection.authenticated) return;

    const { userId } = connection;
    try {
      connection.subscribed = true;
      connection.generation = this.broker.generation;
      await this.broker.acquire(userId);
      const snapshot = await this.store.replay(userId, sinceOf(request));
      if (!connection.isOpen) return;
      for (const frame of snapshot.frames) connection.send(frame);
      connection.sendEvent('ready', {
        userId,
        unread: snapshot.unread,
        replayed: snapshot.frames.length,
        truncated: snapshot.truncated,
        cursor: snapshot.cursor,
        counts: snapshot.counts,
      });
      if (!connection.goLive(snapshot.head)) this.resetStream(connection);
    } catch (error) {
      this.logger.error(`connect failed: ${(error as Error).message}`);
      connection.close(CloseCode.InternalError, 'internal error');
    }
  }

  handleDisconnect(socket: WebSocket): void {
    const connection = connections.get(socket);
    if (!connection) return;
    connections.delete(socket);
    this.registry.remove(connection);
    if (connection.subscribed) {
      connection.subscribed = false;
      this.broker.release(connection.userId);
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.draining = true;
    clearInterval(this.heartbeat);
    const closed = [...this.registry.all()].map(
      (connection) =>
        new Promise<void>((resolve) => {
          connection.socket.once('close', () => resolve());
          connection.close(CloseCode.GoingAway, 'server shutting down: reconnect');
        }),
    );
    await Promise.race([Promise.all(closed), new Promise((r) => setTimeout(r, 2000).unref())]);
  }

  private async authenticate(
    connection: ClientConnection,
    request: IncomingMessage,
  ): Promise<boolean> {
    if (this.draining) {
      connection.close(CloseCode.GoingAway, 'server shutting down: reconnect');
      return false;
    }
    // Proven before the upgrade (upgradeCheck); checked here again only for a server whose
    // upgrades did not go through it.
    let identity = verifiedIdentityOf(request);
    if (!identity) {
      if (!originAllowed(request, this.settings.allowedOrigins)) {
        connection.close(CloseCode.OriginNotAllowed, 'origin not allowed');
        return false;
      }
      const token = tokenOf(request);
      if (!token) {
        connection.close(CloseCode.Unauthorized, 'missing token');
        return false;
      }
      try {
        identity = await this.verifier.verify(token);
      } catch (error) {
        const reason = error instanceof InvalidTokenError ? error.reason : 'token invalid';
        connection.close(CloseCode.Unauthorized, reason);
        return false;
      }
    }
    connection.userId = identity.userId;
    connection.expiresAt = identity.expiresAt + this.settings.limits.tokenExpiryGraceMs;
    connection.nextPingAt = Date.now() + Math.random() * this.settings.limits.pingIntervalMs;
    if (!connection.isOpen) return false;
    if (!this.registry.add(connection, this.settings.limits.maxSocketsPerUser)) {
      connection.close(CloseCode.TooMany, 'too many connections for this user');
      return false;
    }
    return true;
  }

  /** Spends one frame of the socket's budget; over it, the socket gets `rate_limited` and 4429. */
  private overBudget(connection: ClientConnection): boolean {
    if (connection.takeMessageBudget(this.settings.limits.maxMessagesPerMinute)) return false;
    if (connection.isOpen) {
      connection.sendEvent('error', { code: 'rate_limited', message: 'too many messages' });
      connection.close(CloseCode.TooMany, 'too many messages');
    }
    return true;
  }

  private onFrame(connection: ClientConnection, data: Buffer, isBinary: boolean): void {
    if (this.overBudget(connection)) return;
    const frame = parseClientFrame(data, isBinary);
    if (isFrameError(frame)) {
      connection.sendEvent('error', frame);
      return;
    }
    void this.handleFrame(connection, frame);
  }

  private async handleFrame(connection: ClientConnection, frame: ClientFrame): Promise<void> {
    if (frame.event === 'ping') {
      connection.sendEvent('pong', frame.data);
      return;
    }
    try {
      if (frame.event === 'read') {
        const { unread, changed } = await this.inbox.markRead(connection.userId, frame.data);
        // When the count changed, every socket of the user (this one too) is told through the
        // channel; else this one is answered directly.
        if (!changed) connection.sendEvent('unread', { unread });
        return;
      }
      const result = await this.inbox.mark(connection.userId, frame.data);
      // Nothing changed, so nothing went through the channel: answer this socket alone.
      if (result.changed === 0) {
        const { as } = frame.data;
        const what = 'ids' in frame.data ? { as, ids: [] } : { ...frame.data };
        connection.sendEvent('marked', { ...what, as, counts: result.counts });
      }
    } catch (error) {
      this.logger.error(`${frame.event} failed: ${(error as Error).message}`);
      connection.sendEvent('error', {
        code: 'internal',
        message: `could not ${frame.event === 'read' ? 'mark read' : 'mark'}; retry`,
      });
    }
  }

  private deliver(message: ChannelMessage): void {
    for (const connection of this.registry.connectionsOf(message.userId)) {
      if (!connection.offer(message)) this.resetStream(connection);
    }
    if (message.id !== undefined && message.enqueuedAt > 0) {
      this.metrics.pushLatency.observe((Date.now() - message.enqueuedAt) / 1000);
    }
  }

  /** The channels were lost for a while: sockets live before that may have missed messages. */
  private resumeInterrupted(): void {
    const generation = this.broker.generation;
    for (const connection of this.registry.all()) {
      if (connection.generation < generation) {
        connection.close(CloseCode.InternalError, 'stream interrupted: resume with since');
      }
    }
  }

  /** The user's history was reset under a live socket: make the client resume (it is told `truncated`). */
  private resetStream(connection: ClientConnection): void {
    connection.close(CloseCode.InternalError, 'history reset: resume with since');
  }

  /**
   * One heartbeat tick: closes sockets whose token expired (4401, after the grace), drops those that
   * did not answer a ping within `pingTimeoutMs`, and pings those that are due.
   */
  private tick(now = Date.now()): void {
    const { pingIntervalMs, pingTimeoutMs } = this.settings.limits;
    for (const connection of this.registry.all()) {
      if (now >= connection.expiresAt) {
        connection.close(CloseCode.Unauthorized, 'token expired: reconnect with a fresh token');
      } else if (connection.pingSentAt > 0 && now - connection.pingSentAt >= pingTimeoutMs) {
        connection.socket.terminate();
      } else if (connection.pingSentAt === 0 && now >= connection.nextPingAt) {
        connection.pingSentAt = now;
        connection.nextPingAt = now + pingIntervalMs;
        connection.socket.ping();
      }
    }
  }
}

/** The gateway served on `path` (`@WebSocketGateway` needs the path at declaration time). */
export function gatewayForPath(path: string): typeof NotificationGateway {
  @WebSocketGateway({ path })
  class PathNotificationGateway extends NotificationGateway {}
  return PathNotificationGateway;
}
