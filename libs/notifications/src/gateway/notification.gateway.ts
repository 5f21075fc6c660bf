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
import { NotificationsMetrics } from '../notifications.metrics.js';
import { NotificationsSettings } from '../notifications.settings.js';
import { ClientConnection, type ConnectionHooks } from './client-connection.js';
import { isFrameError, parseClientFrame } from './client-frames.js';
import { ConnectionHeartbeat } from './connection-heartbeat.js';
import { HandshakeHolds } from './handshake-holds.js';
import { sinceOf } from './handshake.js';
import { LiveInboxService } from './live-inbox.service.js';
import { closeCodeOfSocketError } from './socket-errors.js';
import { UpgradeAuthenticator } from './upgrade-authenticator.js';

/**
 * How long a socket the server closes may take to answer the close frame before it is cut (ws's
 * default is 30 s): a client that stopped reading must not hold its socket and buffers that long.
 */
const CLOSE_HANDSHAKE_TIMEOUT_MS = 5000;

/** Listeners of a socket; `this` is the socket. */
interface SocketListeners {
  message: (this: WebSocket, data: Buffer, isBinary: boolean) => void;
  pong: (this: WebSocket) => void;
  ping: (this: WebSocket) => void;
  error: (this: WebSocket, error: Error) => void;
}

/**
 * The WebSocket endpoint of wire protocol v1, served on the path that `gatewayForPath` binds it to.
 * It wires the parts together: `UpgradeAuthenticator` admits a socket, `LiveInboxService` registers
 * it, replays what it missed and keeps it live, `ConnectionHeartbeat` pings it and ends it when its
 * token expires; the gateway reads the client's frames (within their budget) and drains the sockets
 * at shutdown.
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
  private readonly connections = new WeakMap<WebSocket, ClientConnection>();
  private readonly hooks: ConnectionHooks;
  private readonly listeners: SocketListeners;
  private draining = false;

  constructor(
    private readonly authenticator: UpgradeAuthenticator,
    private readonly heartbeat: ConnectionHeartbeat,
    private readonly inbox: LiveInboxService,
    private readonly holds: HandshakeHolds,
    private readonly settings: NotificationsSettings,
    metrics: NotificationsMetrics,
  ) {
    this.hooks = {
      closedByServer: (code) => metrics.rejected.inc({ code: String(code) }),
      delivered: () => metrics.delivered.inc(),
    };
    this.listeners = this.sharedListeners();
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
    // An accepted one's `101` is held back for the socket's first frames (see HandshakeHolds).
    const verify = this.authenticator.verifyClient;
    server.options.verifyClient = (info, done) =>
      verify(info, (ok, ...refusal) => {
        if (ok) this.holds.hold(info.req.socket);
        done(ok, ...refusal);
      });
    this.heartbeat.start();
  }

  async handleConnection(socket: WebSocket, request: IncomingMessage): Promise<void> {
    const connection = new ClientConnection(
      socket,
      this.settings.limits.maxBufferedBytes,
      this.hooks,
    );
    this.connections.set(socket, connection);
    socket.on('error', this.listeners.error);
    socket.on('pong', this.listeners.pong);
    socket.on('ping', this.listeners.ping);
    socket.on('message', this.listeners.message);
    // Holds the `101` (see HandshakeHolds) until `ready`, or until the socket is refused.
    const batch = this.holds.batchOf(request.socket);
    try {
      connection.authenticated = this.admit(connection, request);
      connection.authenticated = await connection.authenticated;
      if (!connection.authenticated) return;
      await this.inbox.open(connection, sinceOf(request), batch);
    } catch (error) {
      this.logger.error(`connect failed: ${(error as Error).message}`);
      connection.close(CloseCode.InternalError, 'internal error');
    } finally {
      batch.end();
    }
  }

  handleDisconnect(socket: WebSocket): void {
    const connection = this.connections.get(socket);
    if (!connection) return;
    this.connections.delete(socket);
    this.inbox.close(connection);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.draining = true;
    this.heartbeat.stop();
    const connections = [...this.inbox.connections()];
    const closed = connections.map(
      (connection) =>
        new Promise<void>((resolve) => {
          connection.socket.once('close', () => resolve());
          connection.close(CloseCode.GoingAway, 'server shutting down: reconnect');
        }),
    );
    await Promise.race([Promise.all(closed), new Promise((r) => setTimeout(r, 2000).unref())]);
    // The ws server keeps no list of its sockets (see gatewayForPath), so Nest cannot end those
    // that did not answer the close: they are cut here.
    for (const connection of connections) connection.cut();
  }

  /** Authenticates the socket's user and registers the socket; false when it was closed instead. */
  private async admit(connection: ClientConnection, request: IncomingMessage): Promise<boolean> {
    if (this.draining) {
      connection.close(CloseCode.GoingAway, 'server shutting down: reconnect');
      return false;
    }
    const outcome = await this.authenticator.authenticate(request);
    if ('refused' in outcome) {
      connection.close(outcome.refused.closeCode, outcome.refused.reason);
      return false;
    }
    connection.userId = outcome.identity.userId;
    this.heartbeat.watch(connection, outcome.identity.expiresAt);
    if (!connection.isOpen) return false;
    if (!this.inbox.register(connection)) {
      connection.close(CloseCode.TooMany, 'too many connections for this user');
      return false;
    }
    return true;
  }

  /**
   * The socket listeners, shared by every socket (`this` is the socket) rather than closures per
   * socket, which idle sockets would each hold.
   */
  private sharedListeners(): SocketListeners {
    const connectionOf = (socket: WebSocket) => this.connections.get(socket);
    const onFrame = (connection: ClientConnection, data: Buffer, isBinary: boolean) =>
      this.onFrame(connection, data, isBinary);
    const overBudget = (connection: ClientConnection) => this.overBudget(connection);
    const closedByServer = (code: number) => this.hooks.closedByServer(code);
    return {
      message(data, isBinary) {
        const connection = connectionOf(this);
        if (!connection) return;
        connection.answered();
        if (connection.authenticated === true) onFrame(connection, data, isBinary);
        else if (connection.authenticated !== false) {
          // Frames sent before the token is verified are handled once it is.
          void connection.authenticated.then((ok) => ok && onFrame(connection, data, isBinary));
        }
      },
      pong() {
        connectionOf(this)?.answered();
      },
      // Ping frames cost the server a pong each: they spend the same per-socket frame budget as
      // messages, so a ping flood ends in 4429 like a message flood.
      ping() {
        const connection = connectionOf(this);
        if (connection) overBudget(connection);
      },
      // ws closes a socket on a client's protocol error (1009 frame too large, 1007 invalid UTF-8,
      // 1008 too many fragments…): count it with the other closes.
      error(error) {
        const code = closeCodeOfSocketError(error);
        if (code !== undefined) closedByServer(code);
      },
    };
  }

  /** Spends one frame of the socket's budget; over it, the socket gets `rate_limited` and 4429. */
  private overBudget(connection: ClientConnection): boolean {
    if (connection.takeMessageBudget(this.settings.limits.maxMessagesPerMinute)) return false;
    if (connection.isOpen) {
      connection.send('error', { code: 'rate_limited', message: 'too many messages' });
      connection.close(CloseCode.TooMany, 'too many messages');
    }
    return true;
  }

  private onFrame(connection: ClientConnection, data: Buffer, isBinary: boolean): void {
    if (this.overBudget(connection)) return;
    const frame = parseClientFrame(data, isBinary);
    if (isFrameError(frame)) {
      connection.send('error', frame);
      return;
    }
    void this.handleFrame(connection, frame);
  }

  private async handleFrame(connection: ClientConnection, frame: ClientFrame): Promise<void> {
    if (frame.event === 'ping') {
      connection.send('pong', frame.data);
      return;
    }
    try {
      if (frame.event === 'read') {
        const { unread, changed } = await this.inbox.markRead(connection, frame.data);
        // When the count changed, every socket of the user (this one too) is told through the
        // channel; else this one is answered directly.
        if (!changed) connection.send('unread', { unread });
        return;
      }
      const { changed, counts } = await this.inbox.mark(connection, frame.data);
      // Nothing changed, so nothing went through the channel: answer this socket alone.
      if (changed === 0) {
        const { as } = frame.data;
        const what = 'ids' in frame.data ? { as, ids: [] } : { ...frame.data };
        connection.send('marked', { ...what, as, counts });
      }
    } catch (error) {
      this.logger.error(`${frame.event} failed: ${(error as Error).message}`);
      connection.send('error', {
        code: 'internal',
        message: `could not ${frame.event === 'read' ? 'mark read' : 'mark'}; retry`,
      });
    }
  }
}

/**
 * The gateway served on `path` (`@WebSocketGateway` needs the path at declaration time). Its ws
 * server does not track its clients (`clientTracking`): the registry knows the sockets already,
 * and ws's list would cost every idle socket a `close` listener and a place in a set.
 */
export function gatewayForPath(path: string): typeof NotificationGateway {
  @WebSocketGateway({ path, clientTracking: false })
  class PathNotificationGateway extends NotificationGateway {}
  return PathNotificationGateway;
}
